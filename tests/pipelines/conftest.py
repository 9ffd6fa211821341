"""Shared fixtures for the computation tests: a small real model on SNSR (class 0 normal) and one on the synthetic
set that ships with the tests (tests/pipelines/synthetic.py), each trained once."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pipelines.fit import TrainSpec, fit_bundle, split_train_val
from tests.pipelines.synthetic import synthetic_split as make_synthetic_split

DATA = Path(os.environ.get("LATENTWATCH_DATA_DIR", Path(__file__).resolve().parents[2].parent / "shared" / "data"))


@pytest.fixture(scope="session")
def snsr_split():
    if not (DATA / "snsr" / "X.npy").exists():
        pytest.skip(f"the shared SNSR data is not at {DATA / 'snsr'} (set LATENTWATCH_DATA_DIR)")
    X = np.load(DATA / "snsr" / "X.npy", allow_pickle=False)
    y = np.load(DATA / "snsr" / "Y.npy", allow_pickle=False).astype(int)
    normal, anomalous = X[y == 0], X[y != 0]
    rng = np.random.default_rng(7)
    test_n = normal[:60]
    rest = normal[60:]
    tr, va = split_train_val(len(rest), 0.2, seed=0)
    test_a = anomalous[rng.choice(len(anomalous), 60, replace=False)]
    X_test = np.vstack([test_n, test_a])
    y_test = np.r_[np.zeros(len(test_n)), np.ones(len(test_a))]
    return rest[tr], rest[va], X_test, y_test


@pytest.fixture(scope="session")
def small_spec() -> TrainSpec:
    return TrainSpec(hidden=(32, 16), latent=6, epochs=60, patience=20, n_trees=10, k=10)


@pytest.fixture(scope="session")
def snsr_bundle(snsr_split, small_spec):
    X_train, X_val, _, _ = snsr_split
    return fit_bundle(X_train, X_val, small_spec, seed=0, progress=False)


@pytest.fixture(scope="session")
def synthetic_split():
    return make_synthetic_split()


SYNTHETIC_SPEC = TrainSpec(hidden=(16,), latent=3, epochs=30, patience=10, batch_size=64, lr=3e-3, n_trees=5, k=10)


@pytest.fixture(scope="session")
def synthetic_bundle(synthetic_split):
    X_train, X_val, _, _ = synthetic_split
    return fit_bundle(X_train, X_val, SYNTHETIC_SPEC, seed=0, progress=False)


@pytest.fixture(scope="session")
def synthetic_lfr_bundle(synthetic_split):
    """The same model trained as AE-LFR (training variant "lfr", pipelines/model/variants.py)."""
    X_train, X_val, _, _ = synthetic_split
    spec = replace(SYNTHETIC_SPEC, variant="lfr")
    return fit_bundle(X_train, X_val, spec, seed=0, progress=False)


@pytest.fixture(scope="session")
def synthetic_vae_bundle(synthetic_split):
    """The same model trained as a VAE (training variant "vae", pipelines/model/variants.py)."""
    X_train, X_val, _, _ = synthetic_split
    # the scaler alone: on "range" inputs (training rows in [0, 1]) this small VAE's posterior collapses to the
    # prior (mean exp(logvar) 0.99; README, "VAE backbone")
    spec = replace(SYNTHETIC_SPEC, variant="vae", input_norm="scaler")
    return fit_bundle(X_train, X_val, spec, seed=0, progress=False)


@pytest.fixture(scope="session")
def synthetic_deae_bundle(synthetic_split):
    """The same model trained as the denoising AE with the error MLP (training variant "deae",
    pipelines/model/deae.py)."""
    X_train, X_val, _, _ = synthetic_split
    spec = replace(SYNTHETIC_SPEC, variant="deae")
    return fit_bundle(X_train, X_val, spec, seed=0, progress=False)


@pytest.fixture(scope="session")
def synthetic_cance_bundle(synthetic_split):
    """The same model trained as CANCE (training variant "cance", pipelines/model/cance.py): batch-normalised latent,
    covariance loss, the decoder trained alone, then the three estimation networks."""
    X_train, X_val, _, _ = synthetic_split
    spec = replace(SYNTHETIC_SPEC, variant="cance")
    return fit_bundle(X_train, X_val, spec, seed=0, progress=False)
