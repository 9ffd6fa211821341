"""ARES (paper sections 4.4-4.6): s(x) = r(x) + alpha * d(x).

r is the local reconstruction score (eq. 6), d the local density score: LOF in latent space (the paper's main
choice) or the k-NN distance (Table 3's KNN column, k=20 there). The two parts are unnormalised; on real data one
of them can decide nearly every score, so ``calibrated=True`` divides each part by a robust scale of its values on
validation normals before adding them (alpha still weights the density part). The scale is the interquartile range,
widened to a wider central percentile range where ties make it zero (``normalisation.robust_scale``: on EOPT most
normals tie at LOF = 1). The paper form (``calibrated=False``) is unchanged by any of this.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from pipelines.scorers.base import Encoded, Scorer, ScoreResult
from pipelines.scorers.neighbourhood import knn_distance, local_recon, lof
from pipelines.scorers.normalisation import robust_scale


class ARES(Scorer):
    name = "ares"

    def __init__(
        self,
        k: int = 10,
        alpha: float = 0.5,
        density: str = "lof",
        k_density: int | None = None,
        calibrated: bool = False,
    ) -> None:
        if k < 1:
            raise ValueError(f"ares: k must be >= 1, got {k}")
        if density not in ("lof", "knn"):
            raise ValueError(f"ares: density must be 'lof' or 'knn', got {density!r}")
        if k_density is not None and k_density < 1:
            raise ValueError(
                f"ares: k_density must be >= 1 (or None: {20 if density == 'knn' else 'k'}), got {k_density}"
            )
        self.k, self.alpha, self.density, self.calibrated = int(k), float(alpha), density, bool(calibrated)
        self.k_density = int(k_density or (20 if density == "knn" else k))
        self.k_needed = max(self.k, self.k_density)
        self.scale_r: float | None = None
        self.scale_d: float | None = None
        self.scale_from: dict[str, float] = {}  # diagnostic: lower percentile of the range each scale came from

    def _parts(self, enc: Encoded, reference: Any) -> tuple[np.ndarray, np.ndarray]:
        r = local_recon(enc, reference, self.k)
        d = lof(enc, reference) if self.density == "lof" else knn_distance(enc, self.k_density)
        return r, d

    def fit(self, enc: Encoded, reference: Any, decode: Any) -> ARES:
        r, d = self._parts(enc, reference)
        (self.scale_r, q_r), (self.scale_d, q_d) = robust_scale(r), robust_scale(d)
        self.scale_from = {"recon": q_r, "density": q_d}
        return self

    def score(self, enc: Encoded, reference: Any, decode: Any) -> ScoreResult:
        r, d = self._parts(enc, reference)
        if self.calibrated:
            if self.scale_r is None or self.scale_d is None:
                raise RuntimeError("ares(calibrated=True) must be fitted on validation normals before scoring")
            s = r / self.scale_r + self.alpha * d / self.scale_d
        else:
            s = r + self.alpha * d
        return ScoreResult(score=s, components={"recon_error": enc.err, "local_recon": r, self.density: d})

    def params(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "alpha": self.alpha,
            "density": self.density,
            "k_density": self.k_density,
            "calibrated": self.calibrated,
        }

    def state(self) -> dict[str, Any]:
        return {"scale_r": self.scale_r, "scale_d": self.scale_d, "scale_from_percentile": self.scale_from}

    def load_state(self, state: dict[str, Any]) -> None:
        self.scale_r, self.scale_d = state.get("scale_r"), state.get("scale_d")
        self.scale_from = dict(state.get("scale_from_percentile") or {})

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        yield {}
        yield {"k": 5, "alpha": 1.5, "density": "knn", "k_density": 8, "calibrated": True}
