"""One adapter per peer library: ``fit`` on normal windows, ``score`` windows (higher = more anomalous), and
``decide`` on scores with the library's own thresholding (None where the library has none: those go through
latentwatch's SPOT).

Inputs are already scaled (the caller's scaler, min-max on the fit windows). Streaming detectors (River, PySAD)
learn the fit windows one by one in order and then score without learning, as the protocols fit first and test
after.
"""

from __future__ import annotations

from typing import Any

import numpy as np

HST_QUANTILE = 0.95  # River's QuantileFilter example level (River sets no default)


class PyodPeer:
    """PyOD detectors: their own threshold is ``threshold_`` (contamination 0.1 of the training scores)."""

    def __init__(self, kind: str, seed: int) -> None:
        self.kind, self.seed = kind, seed
        self.det: object | None = None

    def _make(self, n: int, d: int) -> object:
        if self.kind == "knn":
            from pyod.models.knn import KNN

            return KNN(n_neighbors=min(10, n - 1))
        if self.kind == "lof":
            from pyod.models.lof import LOF

            return LOF(n_neighbors=min(20, n - 1))
        if self.kind == "iforest":
            from pyod.models.iforest import IForest

            return IForest(random_state=self.seed)
        if self.kind == "ae":
            from pyod.models.auto_encoder import AutoEncoder

            return AutoEncoder(random_state=self.seed, verbose=0, device="cpu")
        raise ValueError(f"unknown PyOD detector {self.kind!r}")

    def fit(self, X: np.ndarray) -> None:
        self.det = self._make(*X.shape)
        self.det.fit(X)  # type: ignore[attr-defined]

    def score(self, X: np.ndarray) -> np.ndarray:
        assert self.det is not None, "fit first"
        return np.asarray(self.det.decision_function(X), dtype=np.float64)  # type: ignore[attr-defined]

    def decide(self, scores: np.ndarray) -> np.ndarray | None:
        assert self.det is not None, "fit first"
        return np.asarray(scores > self.det.threshold_)  # type: ignore[attr-defined]


class HstPeer:
    """River HalfSpaceTrees; decisions by River's QuantileFilter, its quantile learnt from the fit windows' scores."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def fit(self, X: np.ndarray) -> None:
        from river.anomaly import HalfSpaceTrees, QuantileFilter

        n = len(X)
        self.hst = HalfSpaceTrees(window_size=min(250, max(10, n // 4)), seed=self.seed)  # River's 10 trees, height 8
        self.keys = [f"x{i}" for i in range(X.shape[1])]
        for row in X:
            self.hst.learn_one(dict(zip(self.keys, row.tolist(), strict=True)))
        self.filter = QuantileFilter(self.hst, q=HST_QUANTILE)
        for s in self.score(X):
            self.filter.quantile.update(s)

    def score(self, X: np.ndarray) -> np.ndarray:
        k = self.keys
        return np.array([self.hst.score_one(dict(zip(k, r.tolist(), strict=True))) for r in X], dtype=np.float64)

    def decide(self, scores: np.ndarray) -> np.ndarray | None:
        return np.array([self.filter.classify(float(s)) for s in scores], dtype=bool)


class PysadPeer:
    """PySAD's streaming detectors (no thresholding of their own)."""

    def __init__(self, kind: str, seed: int) -> None:
        self.kind, self.seed = kind, seed

    def fit(self, X: np.ndarray) -> None:
        from pysad.models import LODA, RSHash, xStream

        self.model: Any
        if self.kind == "xstream":  # PySAD: window 25 for streams of a few thousand instances or fewer
            self.model = xStream(window_size=256 if len(X) > 5000 else 25, random_state=self.seed)
        elif self.kind == "rshash":
            self.model = RSHash(X.min(axis=0), X.max(axis=0), random_state=self.seed)
        elif self.kind == "loda":
            self.model = LODA(random_state=self.seed)
        else:
            raise ValueError(f"unknown PySAD detector {self.kind!r}")
        self.model.fit(np.asarray(X, dtype=np.float64))

    def score(self, X: np.ndarray) -> np.ndarray:
        return np.nan_to_num(np.asarray(self.model.score(np.asarray(X, dtype=np.float64)), dtype=np.float64), nan=0.0)

    def decide(self, scores: np.ndarray) -> np.ndarray | None:
        return None


def streamad_spot_decisions(calibration: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """streamad's SpotDetector over a univariate score stream: it learns on the calibration scores, then decides
    each later score in order (an alarm: its score 1.0, beyond SPOT's extreme quantile)."""
    from latentwatch.bench.peers.registry import import_streamad_spot

    det = import_streamad_spot()()
    for s in calibration:
        det.fit_score(np.array([float(s)]))
    out = np.zeros(len(scores), dtype=bool)
    for i, s in enumerate(scores):
        v = det.fit_score(np.array([float(s)]))
        out[i] = v is not None and v >= 1.0
    return out
