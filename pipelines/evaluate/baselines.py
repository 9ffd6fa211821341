"""Input-space baselines of ARES Table 2 (scikit-learn), fitted on the training split's normals.

Every baseline sees the same standardised inputs as the autoencoder: the model's scaler (fitted on the training
split, clipped) applied to train and test. Scores are oriented so that higher means more anomalous.

- lof: LocalOutlierFactor(n_neighbors=20, novelty=True), scikit-learn's defaults otherwise.
- iforest: IsolationForest(n_estimators=100, random_state=seed).
- pca: squared reconstruction error after projecting on the first `n_components` principal components of the
  training rows; n_components = the autoencoder's latent size (the same bottleneck), capped at d - 1.
- ocsvm: OneClassSVM(kernel="rbf", gamma="scale", nu=0.5): scikit-learn's defaults. Kernel SVMs scale
  quadratically, so the training rows are subsampled (seeded, without replacement) to at most `ocsvm_max_train`
  (10,000 by default); the subsample size is recorded per run.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

BASELINES = ("lof", "iforest", "pca", "ocsvm")
OCSVM_MAX_TRAIN = 10_000
LOF_NEIGHBOURS = 20


def _lof(Xtr: np.ndarray, Xte: np.ndarray, seed: int, **_: Any) -> tuple[np.ndarray, dict[str, Any]]:
    from sklearn.neighbors import LocalOutlierFactor

    m = LocalOutlierFactor(n_neighbors=min(LOF_NEIGHBOURS, len(Xtr) - 1), novelty=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate rows (EOPT) make sklearn warn about k-distance ties
        m.fit(Xtr)
        return -m.score_samples(Xte), {"n_neighbors": m.n_neighbors}


def _iforest(Xtr: np.ndarray, Xte: np.ndarray, seed: int, **_: Any) -> tuple[np.ndarray, dict[str, Any]]:
    from sklearn.ensemble import IsolationForest

    m = IsolationForest(n_estimators=100, random_state=seed).fit(Xtr)
    return -m.score_samples(Xte), {"n_estimators": 100}


def _pca(
    Xtr: np.ndarray, Xte: np.ndarray, seed: int, n_components: int = 8, **_: Any
) -> tuple[np.ndarray, dict[str, Any]]:
    from sklearn.decomposition import PCA

    n = int(max(1, min(n_components, Xtr.shape[1] - 1, len(Xtr) - 1)))
    m = PCA(n_components=n, random_state=seed).fit(Xtr)
    rec = m.inverse_transform(m.transform(Xte))
    return ((Xte - rec) ** 2).sum(axis=1), {"n_components": n}


def _ocsvm(
    Xtr: np.ndarray, Xte: np.ndarray, seed: int, ocsvm_max_train: int = OCSVM_MAX_TRAIN, **_: Any
) -> tuple[np.ndarray, dict[str, Any]]:
    from sklearn.svm import OneClassSVM

    rows = Xtr
    if len(Xtr) > ocsvm_max_train:
        pick = np.random.default_rng(seed).choice(len(Xtr), ocsvm_max_train, replace=False)
        rows = Xtr[np.sort(pick)]
    m = OneClassSVM(kernel="rbf", gamma="scale", nu=0.5).fit(rows)
    return -m.score_samples(Xte), {"train_rows": int(len(rows)), "nu": 0.5, "gamma": "scale"}


_FUNCS: dict[str, Callable[..., tuple[np.ndarray, dict[str, Any]]]] = {
    "lof": _lof,
    "iforest": _iforest,
    "pca": _pca,
    "ocsvm": _ocsvm,
}


def run_baseline(
    name: str, X_train: np.ndarray, X_test: np.ndarray, seed: int, **params: Any
) -> tuple[np.ndarray, dict[str, Any]]:
    """(anomaly scores of X_test, the parameters used). X_* are already standardised."""
    if name not in _FUNCS:
        raise ValueError(f"unknown baseline {name!r}; choose from {list(BASELINES)}")
    Xtr = np.asarray(X_train, dtype=np.float64)
    Xte = np.asarray(X_test, dtype=np.float64)
    scores, used = _FUNCS[name](Xtr, Xte, seed, **params)
    return np.asarray(scores, dtype=np.float64), used
