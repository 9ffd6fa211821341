"""Contaminated training (pipelines/evaluate/contamination.py) and the runner's training variants: the test rows
stay the clean split's, the anomalies mixed in are spare ones at the ratio asked, and every variant's model is
scored by the scorers that can score it."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.evaluate.contamination import contaminate
from pipelines.evaluate.protocol import Arrangement, make_split
from pipelines.evaluate.runner import EvalConfig, run_one
from pipelines.fit import TrainSpec

ARR = Arrangement("toy", "unimodal", 0, "zero")


def _toy(n_per_class: int = 120, classes: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    y = np.repeat(np.arange(classes), n_per_class)
    X = rng.normal(size=(len(y), 6)) + 3.0 * y[:, None] * (np.arange(6) % 2)
    return X, y


@pytest.mark.parametrize("c", [0.1, 0.5])
def test_spare_anomalies_join_training_and_validation_at_the_ratio(c):
    X, y = _toy()
    clean = make_split(y, ARR, seed=0)
    mixed = contaminate(clean, y, ARR, seed=0, c=c)
    s = mixed.split
    np.testing.assert_array_equal(s.test, clean.test)
    np.testing.assert_array_equal(s.y_test, clean.y_test)
    added = np.setdiff1d(np.r_[s.train, s.val], np.r_[clean.train, clean.val])
    assert (y[added] != 0).all() and not np.intersect1d(added, s.test).size
    assert mixed.train_anomalies == round(c * len(clean.train)) and mixed.val_anomalies == round(c * len(clean.val))
    assert mixed.achieved == pytest.approx(c, abs=0.02)
    again = contaminate(clean, y, ARR, seed=0, c=c).split
    np.testing.assert_array_equal(again.train, s.train)


def test_too_few_spare_anomalies_takes_them_all_and_says_so():
    X, y = _toy(n_per_class=120, classes=2)  # 120 anomalies, 60 in the test set, 60 spare for 48 + 12 normals
    clean = make_split(y, ARR, seed=0)
    mixed = contaminate(clean, y, ARR, seed=0, c=5.0)
    assert mixed.train_anomalies + mixed.val_anomalies == 60
    assert mixed.achieved == pytest.approx(60 / (len(clean.train) + len(clean.val)))


def test_a_bad_ratio_is_refused():
    _, y = _toy()
    with pytest.raises(ValueError, match="contamination must be a ratio"):
        contaminate(make_split(y, ARR, seed=0), y, ARR, seed=0, c=-0.1)


def test_one_model_per_variant_each_with_its_scorers():
    X, y = _toy()
    spec = TrainSpec(hidden=(8,), latent=3, epochs=2, patience=2, n_trees=2, k=3)
    cfg = EvalConfig(
        datasets=["toy"],
        scorers=["recon", "lfr"],
        baselines=[],
        spec=spec,
        overrides=False,
        variants=("ae", "lfr"),
        contamination=0.3,
    )
    rec = run_one(X, y, ARR, 0, cfg)
    assert set(rec["methods"]) == {"recon", "lfr:recon", "lfr:lfr"}
    assert set(rec["models"]) == {"ae", "lfr"} and rec["setting"] == "unimodal c=0.3"
    assert rec["sizes"]["train_anomaly"] > 0 and rec["contamination"]["asked"] == 0.3


def test_a_variant_scorer_without_its_variant_is_refused():
    with pytest.raises(ValueError, match="scorer 'lfr' needs a training variant"):
        EvalConfig(datasets=["snsr"], scorers=["lfr"], variants=("ae",)).check()
    with pytest.raises(ValueError, match="unknown training variant"):
        EvalConfig(datasets=["snsr"], scorers=["recon"], variants=("vae9",)).check()
