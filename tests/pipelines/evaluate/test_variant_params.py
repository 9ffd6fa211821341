"""EvalConfig.variant_params: each variant's hyperparameters reach the TrainSpec of that variant's models (and so
the models), are recorded with their defaults in the run record, and a bad one is refused before training."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.evaluate.protocol import Arrangement
from pipelines.evaluate.runner import EvalConfig, run_one
from pipelines.fit import TrainSpec

ARR = Arrangement("toy", "unimodal", 0, "zero")
SPEC = TrainSpec(hidden=(8,), latent=3, epochs=3, patience=3, n_trees=2, k=3)


def _toy() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    y = np.repeat(np.arange(3), 100)
    X = rng.normal(size=(len(y), 6)) + 2.5 * y[:, None] * (np.arange(6) % 2)
    return X, y


def _cfg(**kw) -> EvalConfig:
    return EvalConfig(datasets=["toy"], baselines=[], spec=SPEC, overrides=False, **kw)


def test_the_variant_params_reach_that_variants_spec_only():
    cfg = _cfg(scorers=["recon"], variants=("ae", "vae", "lfr"), variant_params={"vae": {"beta": 0.1}})
    assert cfg.variant_spec(SPEC, "vae").variant_params == {"beta": 0.1}
    assert cfg.variant_spec(SPEC, "lfr").variant_params == {}
    base = TrainSpec(variant="vae", variant_params={"beta": 0.5})  # the spec's own, under the option's
    assert cfg.variant_spec(base, "vae").variant_params == {"beta": 0.1}
    assert _cfg(variants=("vae",)).variant_spec(base, "vae").variant_params == {"beta": 0.5}


def test_a_vae_at_beta_zero_trains_without_the_kl_term_and_the_record_says_which():
    X, y = _toy()
    recs = {
        beta: run_one(
            X, y, ARR, 0, _cfg(scorers=["vae-elbo"], variants=("vae",), variant_params={"vae": {"beta": beta}})
        )
        for beta in (0.0, 1.0)
    }
    for beta, rec in recs.items():
        assert rec["variant_params"] == {"vae": {"beta": beta}}
    loss = {b: r["model"]["best_val_loss"] for b, r in recs.items()}
    assert loss[0.0] < loss[1.0]  # no KL term: the loss is the reconstruction's alone


def test_the_record_holds_every_variants_params_with_their_defaults():
    X, y = _toy()
    rec = run_one(X, y, ARR, 0, _cfg(scorers=["recon"], variants=("ae", "deae"), variant_params={"deae": {"noise": 0}}))
    assert rec["variant_params"]["ae"] == {}
    assert rec["variant_params"]["deae"]["noise"] == 0.0 and rec["variant_params"]["deae"]["lambda3"] == 1.0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"lfr": {"k": 2}}, "not among the variants"),
        ({"vae": {"beta": -1}}, "beta"),
        ({"vae": {"bta": 1}}, "bta"),
    ],
)
def test_bad_variant_params_are_refused_before_training(params, message):
    with pytest.raises(ValueError, match=message):
        _cfg(scorers=["recon"], variants=("ae", "vae"), variant_params=params).check()
