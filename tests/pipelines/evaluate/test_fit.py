"""The evaluation's scaler and reference choices (pipelines/evaluate/fit.py)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from pipelines.evaluate.fit import build_window_reference, fit_eval_bundle, minmax_scaler
from pipelines.model.autoencoder import AESpec, Autoencoder
from pipelines.model.frozen import FrozenModel
from pipelines.model.scaler import Scaler
from pipelines.reference.build import build_reference
from pipelines.train import TrainSpec


def test_minmax_scaler_maps_training_rows_to_unit_range_and_survives_constant_columns():
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(5, 3, 200), rng.integers(0, 2, 200), np.full(200, 7.0)]
    sc = minmax_scaler(X, clip=10.0)
    Z = sc.transform(X)
    assert np.allclose(Z[:, :2].min(0), 0) and np.allclose(Z[:, :2].max(0), 1)
    assert np.isfinite(Z).all() and np.allclose(Z[:, 2], 0)
    assert sc.transform(np.array([[1e9, 0, 7]]))[0, 0] == 10.0  # clipped like Scaler
    again = Scaler.from_arrays(sc.to_arrays())  # an artifact stores it as a plain Scaler
    assert np.array_equal(again.transform(X), Z)


def tiny_model(d: int, seed: int = 0) -> FrozenModel:
    torch.manual_seed(seed)
    X = np.random.default_rng(seed).normal(size=(50, d))
    return FrozenModel(scaler=Scaler.fit(X), ae=Autoencoder(AESpec(input_dim=d, hidden=(8,), latent=3)))


def test_window_reference_keeps_duplicates_and_matches_the_collapsed_one_without_them():
    model = tiny_model(4)
    Xs = np.random.default_rng(1).normal(size=(300, 4)).astype(np.float32)
    win = build_window_reference(model, Xs, k=5)
    col = build_reference(model, Xs, k=5)
    assert win.size == col.size == 300
    assert np.allclose(win.kdist, col.kdist, rtol=1e-4) and np.allclose(win.lrd, col.lrd, rtol=1e-3)
    dup = np.r_[Xs, Xs[:50], Xs[:50]]  # 50 windows seen three times
    win = build_window_reference(model, dup, k=5)
    assert win.size == 400 and build_reference(model, dup, k=5).size == 300
    assert np.isfinite(win.lrd).all() and win.kdist[:50].mean() < win.kdist[50:300].mean()  # multiplicity counts
    z, _, _ = model.encode_scaled(Xs[:50])
    _, dist = win.index.query(z, 3)
    assert np.allclose(dist, 0, atol=1e-6)  # each of the 50 sees its three copies first


def test_fit_eval_bundle_is_fit_bundle_for_the_production_choices_and_rejects_unknown_ones():
    X = np.random.default_rng(2).normal(size=(120, 5))
    spec = TrainSpec(hidden=(8,), latent=2, epochs=2, k=5)
    prod = fit_eval_bundle(X[:100], X[100:], spec, seed=0, scaler="zscore", reference="distinct")
    mm = fit_eval_bundle(X[:100], X[100:], spec, seed=0, scaler="minmax", reference="windows")
    assert prod.reference.size == mm.reference.size == 100 and mm.metrics["epochs_run"] == 2
    assert np.allclose(mm.model.scaler.center, X[:100].min(0))
    with pytest.raises(ValueError):
        fit_eval_bundle(X[:100], X[100:], spec, seed=0, scaler="robust")
