"""NLN (Nearest Latent Neighbours, section 3, eq. 4), for a vanilla autoencoder on feature vectors.

  eta = alpha * mean_k mean_j |x[j] - g(z_k)[j]|  +  (1 - alpha) * mean_k ||z - z_k||

Section 3.3 normalises each aggregated term before adding them. The paper normalises over its test set, which a
stream does not have (and it would make a window's score depend on its batch), so each term is min-max normalised
with the range it takes on validation normals, fitted once and stored in the artifact.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from pipelines.scorers.base import Encoded, Scorer, ScoreResult


class NLN(Scorer):
    name = "nln"

    def __init__(self, k: int = 5, alpha: float = 0.8) -> None:
        if k < 1 or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"nln: need k >= 1 and alpha in [0, 1], got k={k}, alpha={alpha}")
        self.k = self.k_needed = int(k)
        self.alpha = float(alpha)
        self.ranges: dict[str, list[float]] | None = None

    def _parts(self, enc: Encoded, reference: Any, decode: Any) -> tuple[np.ndarray, np.ndarray]:
        B, k = len(enc), self.k
        zk = reference.latents[enc.nbr_idx[:, :k]].reshape(B * k, -1)
        decoded = decode(zk).reshape(B, k, -1)
        rec = np.abs(enc.x[:, None, :] - decoded).mean(axis=(1, 2), dtype=np.float64)
        lat = enc.nbr_dist[:, :k].mean(axis=1)
        return rec, lat

    def fit(self, enc: Encoded, reference: Any, decode: Any) -> NLN:
        rec, lat = self._parts(enc, reference, decode)
        self.ranges = {"recon": [float(rec.min()), float(rec.max())], "latent": [float(lat.min()), float(lat.max())]}
        return self

    def score(self, enc: Encoded, reference: Any, decode: Any) -> ScoreResult:
        if self.ranges is None:
            raise RuntimeError("nln must be fitted on validation normals before scoring (its normalisation)")
        rec, lat = self._parts(enc, reference, decode)
        (r0, r1), (l0, l1) = self.ranges["recon"], self.ranges["latent"]
        rn = (rec - r0) / max(r1 - r0, 1e-12)
        ln = (lat - l0) / max(l1 - l0, 1e-12)
        return ScoreResult(
            score=self.alpha * rn + (1 - self.alpha) * ln,
            components={"recon_error": enc.err, "nln_recon": rec, "nln_latent": lat},
        )

    def params(self) -> dict[str, Any]:
        return {"k": self.k, "alpha": self.alpha}

    def state(self) -> dict[str, Any]:
        return {"ranges": self.ranges}

    def load_state(self, state: dict[str, Any]) -> None:
        self.ranges = state.get("ranges")

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        yield {}
        yield {"k": 3, "alpha": 0.5}
