"""SKAB's methods: a training variant and a scorer each (runner.methods), found through the registries, trained as
that variant (both rows), and reported beside the plain autoencoder's rows under their own names."""

from __future__ import annotations

import pytest

from pipelines.evaluate.skab.report import detail_table, nab_table, outlier_table, run_methods
from pipelines.evaluate.skab.runner import methods, prepare, select_runs
from pipelines.evaluate.skab.settings import SkabSettings

S = SkabSettings(epochs=2, hidden=(8,), latent=2)


def _labels(ms):
    return [m.label() for m in ms]


def test_the_default_is_the_settings_own_method():
    (m,) = methods(S)
    assert (m.variant, m.scorer, m.label()) == ("ae", "recon", "recon")


def test_each_variant_gets_the_scorers_made_for_it_from_the_registry(monkeypatch):
    from pipelines.scorers import REGISTRY
    from pipelines.scorers.vae import VAEScore

    assert _labels(methods(S, ["ae", "lfr", "deae"])) == ["recon", "lfr:lfr", "deae:deae-mlp"]
    monkeypatch.setitem(REGISTRY, "vae-later", (VAEScore, {}))  # registered later, as CANCE's scorers are
    assert _labels(methods(S, ["vae"])) == ["vae:vae-elbo", "vae:vae-recon-prob", "vae:vae-later"]


def test_given_scorers_run_on_every_variant_they_can_score_with_its_params():
    ms = methods(S, ["ae", "lfr"], ["recon", "lfr"], {"lfr": {"lambda1": 0.5}})
    assert _labels(ms) == ["recon", "lfr:recon", "lfr:lfr"]
    assert ms[0].variant_params == {} and ms[2].variant_params == {"lambda1": 0.5}


def test_scorer_params_reach_that_scorer_only():
    ms = methods(S, ["ae", "vae"], ["recon", "vae-elbo"], None, {"vae-elbo": {"samples": 4}})
    assert _labels(ms) == ["recon", "vae:recon", "vae:vae-elbo"]
    assert [m.scorer_params for m in ms] == [S.scorer_params, S.scorer_params, {"samples": 4}]


@pytest.mark.parametrize(
    ("variants", "scorers", "params", "message"),
    [
        (["ae"], ["lfr"], None, "no scorer of ['lfr'] scores models of training variant 'ae'"),
        (["ae", "vae"], ["recon", "lfr"], None, "scorer 'lfr' scores none of the training variants"),
        (["ae"], ["nope"], None, "unknown scorer 'nope'"),
        (["lfr"], None, {"lfr": {"k": 9}}, "exceed the latent size 2"),
        (["vaex"], None, None, "unknown training variant(s) ['vaex']"),
    ],
)
def test_methods_that_cannot_run_are_refused_before_training(variants, scorers, params, message):
    with pytest.raises(ValueError) as e:
        methods(S, variants, scorers, params)
    assert message in str(e.value)


@pytest.mark.parametrize("row", ["leaderboard", "deployment"])
def test_a_variant_row_scores_with_a_model_of_that_variant(row, monkeypatch):
    import pipelines.evaluate.skab.runner as runner

    seen = []
    real = runner.score_stream

    def spy(online, X):
        seen.append((online.model.variant.name, type(online.model.parts).__name__, online.scorer.name))
        return real(online, X)

    monkeypatch.setattr(runner, "score_stream", spy)
    runs = [r for r in select_runs(None, ["valve1"]) if r.name == "valve1/0"]
    (m,) = methods(S, ["lfr"])
    prepare(row, m, runs)
    assert seen == [("lfr", "LFRLayer", "lfr")]


def test_the_tables_name_each_method_beside_the_plain_rows():
    runs = [r for r in select_runs(None, ["valve1"]) if r.name == "valve1/0"]
    by = run_methods(["leaderboard"], methods(S, ["ae", "vae"], ["recon", "vae-elbo"]), ["valve1"])
    assert list(by) == ["recon", "vae:recon", "vae:vae-elbo"] and len(runs) == 1
    text = outlier_table(by, []) + nab_table(by, []) + detail_table(by)
    assert "latentwatch (a) per-file model |" in text.replace("**", "")
    assert "latentwatch (a) per-file model, vae:vae-elbo" in text and "| (a) vae:recon | alarmed |" in text
