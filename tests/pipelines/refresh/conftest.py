"""A small artifact on the synthetic set (tests/pipelines/synthetic.py) with per-asset normals for "a" and "b", and
recent traffic from the same manifold: normal windows of both assets, with anomalies among them."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest

from pipelines.asset_normals import publish_asset_normals
from pipelines.fit import TrainSpec, fit_artifact
from pipelines.refresh.validate import Rule
from tests.pipelines.synthetic import synthetic_split

RULE = Rule(max_alarm_rate_increase=0.01, max_auroc_drop=0.02, q=1e-3, level=0.9)


@dataclasses.dataclass(frozen=True)
class Settings:
    max_windows: int = 100_000
    exclude_quantile: float = 0.99
    holdout_fraction: float = 0.1
    keep_versions: int = 3
    seed: int = 0


@pytest.fixture(scope="session")
def refresh_data():
    X_train, X_val, X_test, y_test = synthetic_split(n_train=600, n_val=300, n_test=1000)
    return X_train, X_val, X_test[y_test == 0], X_test[y_test == 1]


@pytest.fixture(scope="session")
def trained_root(tmp_path_factory, refresh_data):
    X_train, X_val, _, _ = refresh_data
    root = tmp_path_factory.mktemp("refresh-artifacts")
    spec = TrainSpec(hidden=(16,), latent=3, epochs=30, patience=10, batch_size=64, lr=3e-3, n_trees=5, k=10)
    base = fit_artifact(np.vstack([X_train, X_val]), root, spec, seed=0, progress=False)
    half = len(X_train) // 2
    publish_asset_normals(root, base, {"a": X_train[:half], "b": X_train[half:]}, shards=4)
    return root


@pytest.fixture
def root(trained_root, tmp_path):
    """A private copy of the trained root, so a test may publish, prune or roll back."""
    out = tmp_path / "artifacts"
    shutil.copytree(trained_root, out, symlinks=True)
    return out


@pytest.fixture
def traffic(refresh_data):
    """(X, asset, ts_ms, is_fault): 1000 normal windows of assets a/b alternating, 40 anomalies of asset a at
    positions 500.. (ts 1 s apart)."""
    _, _, normal, anomalous = refresh_data
    X = np.vstack([normal[:500], anomalous[:40], normal[500:]])
    fault = np.r_[np.zeros(500, bool), np.ones(40, bool), np.zeros(len(normal) - 500, bool)]
    asset = np.where(np.arange(len(X)) % 2 == 0, "a", "b")
    asset[fault] = "a"
    ts = 1_700_000_000_000 + 1000 * np.arange(len(X), dtype=np.int64)
    return X, asset, ts, fault
