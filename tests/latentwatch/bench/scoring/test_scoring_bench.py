"""`latentwatch bench scoring` end to end at a tiny size (no timing assertions), and its pieces."""

from __future__ import annotations

import json

import pytest

from latentwatch.bench.scoring import _ints
from latentwatch.bench.scoring.config import ALL_SCORERS, PEERS
from latentwatch.bench.scoring.models import plan
from latentwatch.cli import main


def _tiny_bench(tmp_path, capsys, *options: str) -> tuple[str, dict]:
    """`latentwatch bench scoring` on the synthetic set, one training epoch and one round, with ``options``: what it
    printed and the JSON it wrote."""
    out = tmp_path / "bench.json"
    tiny = ("--data", "synthetic", "--rounds", "1", "--epochs", "1")
    assert main(["bench", "scoring", *tiny, *options, "--json", str(out)]) == 0
    return capsys.readouterr().out, json.loads(out.read_text())


def test_bench_scoring_smoke(tmp_path, capsys):
    text, doc = _tiny_bench(
        tmp_path,
        capsys,
        *("--sizes", "400,600", "--queries", "120", "--batch", "60", "--train-rows", "400", "--max-seconds", "5"),
        *("--tune", "--tune-trees", "2", "--tune-search-k=-1,50", "--profile"),
    )
    for column in (
        "size",
        "items",
        "build_s",
        "rss_mib",
        "held_mib",
        "annoy_mib",
        "method",
        "far_rows",
        "far_recall",
        "far_ares_change",
        "far_flips",
        "annoy_recall@10",
        "windows/s",
        "400 w/s",
        "600 w/s",
        "vs_ares",
        "goals",
        "annoy sweep",
        "ares profile",
        "ncalls",
    ):
        assert column in text, column
    for method in (*ALL_SCORERS, *PEERS):
        assert method in text, method
    for goal in ("ares >= annoy-loop", "ares > pyod-knn", "ares >= 0.5 x pyod-iforest"):
        assert goal in text
    assert [r["size"] for r in doc["results"]] == [400, 600]
    for r in doc["results"]:
        assert set(r["rates"]) == set(ALL_SCORERS) | set(PEERS)
        assert all(v > 0 for v in r["rates"].values())
        assert r["vs_ares"]["ares"] == 1.0
        assert r["method"] == "exact" and 0.0 <= r["recall"] <= 1.0
        assert {t["search_k"] for t in r["tune"]} == {-1, 50}
    assert len(doc["goals"]) == 6


def test_bench_subcommand_is_required(capsys):
    with pytest.raises(SystemExit):
        main(["bench"])
    assert "scoring" in capsys.readouterr().err


def test_sizes_parse():
    assert _ints("20k,100k,1m") == (20_000, 100_000, 1_000_000)
    assert _ints("1_000, 2.5k") == (1000, 2500)


def test_a_bench_that_cannot_import_refuses_alone(monkeypatch, capsys):
    from latentwatch.commands import bench

    monkeypatch.setitem(bench.BENCHES, "broken", ("no_such_module_for_bench", "a bench whose extra is missing"))
    with pytest.raises(SystemExit, match="cannot import no_such_module_for_bench"):
        main(["bench", "broken"])
    with pytest.raises(SystemExit):
        main(["bench", "scoring", "--help"])
    assert "--sizes" in capsys.readouterr().out


def test_a_variant_scorer_is_timed_on_its_own_model_beside_ares(tmp_path, capsys):
    text, doc = _tiny_bench(
        tmp_path,
        capsys,
        *("--sizes", "300", "--queries", "60", "--batch", "30", "--train-rows", "300"),
        *("--scorers", "ares,vae-elbo,vae:ares", "--peers", "none"),
    )
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.split()[:2][-1:] == ["scorer"]}
    assert rows["vae-elbo"][2] == "vae" and rows["vae:ares"][2] == "vae" and rows["ares"][2] == "ae"
    assert set(doc["models"]) == {"ae", "vae"}
    (r,) = doc["results"]
    assert r["models"] == {"ares": "ae", "vae-elbo": "vae", "vae:ares": "vae"}
    assert r["rates"]["vae-elbo"] > 0 and r["vs_ares"]["vae-elbo"] > 0
    assert r["vs_ares"]["ares"] == 1.0 and "vae:ares" in r["vs_ares"]
    assert any(n.startswith("vae model: its reference") for n in r["notes"])


def test_every_registered_scorer_gets_a_model_it_can_score(monkeypatch):
    from pipelines.scorers import REGISTRY
    from pipelines.scorers.lfr import LFRScore

    monkeypatch.setitem(REGISTRY, "lfr-again", (LFRScore, {}))  # a scorer registered later, as cance will be
    variants, timed = plan(None, None)
    assert variants[0] == "ae"
    by_label = {t.label: t for t in timed}
    assert set(by_label) == set(REGISTRY)
    for t in timed:
        allowed = REGISTRY[t.scorer][0].variants
        assert t.variant == ("ae" if allowed is None else allowed[0])
        assert t.variant in variants
    assert by_label["lfr-again"].variant == "lfr"


def test_variants_choose_the_default_scorers_and_bring_in_ae():
    variants, timed = plan(None, ("vae",))
    assert variants[0] == "ae" and set(variants) == {"ae", "vae"}
    names = {t.scorer for t in timed}
    assert {"ares", "vae-elbo", "vae-recon-prob"} <= names and "lfr" not in names
    variants, timed = plan(("lfr",), ("lfr-b",))
    assert variants == ["lfr-b"] and timed[0].variant == "lfr-b"


@pytest.mark.parametrize(
    ("scorers", "variants", "message"),
    [
        (("no-such",), None, "unknown scorer 'no-such'"),
        (("lfr",), ("vae",), "needs a model of training variant lfr or lfr-b"),
        (("vae:lfr",), None, "scores models of"),
        (("nope:ares",), None, "unknown training variant 'nope'"),
        (("vae:ares",), ("lfr",), "add it to --variants"),
        (("ares",), ("ae", "vae"), "no timed scorer runs on ['vae']"),
        (("ares",), ("nope",), "unknown training variant(s) ['nope']"),
    ],
)
def test_scorers_and_variants_that_cannot_be_timed_are_refused(scorers, variants, message):
    with pytest.raises(ValueError) as e:
        plan(scorers, variants)
    assert message in str(e.value)


def test_the_command_refuses_an_unknown_scorer_before_training(capsys):
    assert main(["bench", "scoring", "--scorers", "ares,no-such", "--data", "synthetic"]) == 2
    assert "unknown scorer 'no-such'" in capsys.readouterr().err
