"""The evaluation trains through the production path: its scaler and reference choices are TrainSpec fields."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.evaluate.runner import EvalConfig
from pipelines.evaluate.settings import DEFAULT_REFERENCE, DEFAULT_SCALER
from pipelines.fit import TrainSpec, fit_bundle


def test_eval_config_sets_the_spec_fields_and_keeps_the_overrides():
    cfg = EvalConfig(datasets=["eopt"], scaler="minmax", reference="windows")
    spec = cfg.spec_for("eopt")
    assert (spec.scaler, spec.reference_dedup, spec.k) == ("minmax", False, 3)  # k=3: the EOPT override
    spec = EvalConfig(datasets=["mi-v"], scaler="zscore", reference="distinct", epochs=4).spec_for("mi-v")
    assert (spec.scaler, spec.reference_dedup, spec.epochs) == ("zscore", True, 4)
    assert (DEFAULT_SCALER, DEFAULT_REFERENCE) == ("minmax", "windows")
    with pytest.raises(ValueError, match="reference"):
        EvalConfig(datasets=["mi-v"], reference="every").spec_for("mi-v")
    with pytest.raises(ValueError, match="scaler"):
        EvalConfig(datasets=["mi-v"], scaler="robust").spec_for("mi-v")


def test_fit_bundle_honours_the_scaler_and_reference_options():
    X = np.random.default_rng(2).normal(size=(120, 5))
    X_train = np.r_[X[:100], X[:10], X[:10]]  # ten windows seen three times
    spec = TrainSpec(hidden=(8,), latent=2, epochs=2, k=5, input_norm="scaler")  # the scaler's own centre
    prod = fit_bundle(X_train, X[100:], spec, seed=0, progress=False)
    ev = fit_bundle(
        X_train,
        X[100:],
        TrainSpec(hidden=(8,), latent=2, epochs=2, k=5, scaler="minmax", input_norm="scaler", reference_dedup=False),
        seed=0,
        progress=False,
    )
    assert prod.reference.size == 100 and ev.reference.size == 120 and ev.metrics["epochs_run"] == 2
    assert (ev.reference.counts == 1).all() and prod.reference.counts[:10].tolist() == [3] * 10
    np.testing.assert_array_equal(ev.model.scaler.center, X_train.min(0))
    np.testing.assert_allclose(prod.model.scaler.center, X_train.mean(0))
