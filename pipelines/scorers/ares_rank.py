"""ARES with rank-calibrated parts: s(x) = F_r(r(x)) + alpha * F_d(d(x)).

r and d are ARES's two parts (eq. 6 local reconstruction, eq. 8 latent LOF; pipelines.scorers.ares). F_r and F_d
are their empirical CDFs on the validation normals, fitted in ``fit`` (like ares-cal's scales) and stored as 1,001
quantiles per part (``normalisation.ecdf_quantiles``), so the state is bounded whatever the validation size. Mapping
(``normalisation.ecdf_map``): linear interpolation between quantiles; ties (within 1e-6 of the part's 1-99 percentile
range) get the mid-rank of their block; beyond the validation range the line continues with the average slope of
the upper (lower) half of the quantiles, so large anomalies stay ordered by the part's own value. alpha = 0.5.

Why: on EOPT the two parts live on very different, heavy-tailed scales and about 3/4 of validation normals tie at
LOF = 1, so the linear rescaling of ares-cal cannot balance them; a rank transform puts both parts on [0, 1] on
normals whatever their shape. This scorer was designed after seeing ares-cal fail on EOPT (docs/evaluation.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from pipelines.scorers.ares import ARES
from pipelines.scorers.base import Encoded, ScoreResult
from pipelines.scorers.normalisation import RANK_QUANTILES, ecdf_map, ecdf_quantiles


class ARESRank(ARES):
    name = "ares-rank"

    def __init__(self, k: int = 10, alpha: float = 0.5, density: str = "lof", k_density: int | None = None) -> None:
        super().__init__(k=k, alpha=alpha, density=density, k_density=k_density, calibrated=False)
        self.q_r: np.ndarray | None = None
        self.q_d: np.ndarray | None = None

    def fit(self, enc: Encoded, reference: Any, decode: Any) -> ARESRank:
        r, d = self._parts(enc, reference)
        self.q_r, self.q_d = ecdf_quantiles(r), ecdf_quantiles(d)
        return self

    def score(self, enc: Encoded, reference: Any, decode: Any) -> ScoreResult:
        if self.q_r is None or self.q_d is None:
            raise RuntimeError("ares-rank must be fitted on validation normals before scoring (its CDFs)")
        r, d = self._parts(enc, reference)
        fr, fd = ecdf_map(r, self.q_r), ecdf_map(d, self.q_d)
        return ScoreResult(
            score=fr + self.alpha * fd,
            components={
                "recon_error": enc.err,
                "local_recon": r,
                self.density: d,
                "local_recon_rank": fr,
                f"{self.density}_rank": fd,
            },
        )

    def params(self) -> dict[str, Any]:
        return {"k": self.k, "alpha": self.alpha, "density": self.density, "k_density": self.k_density}

    def state(self) -> dict[str, Any]:
        if self.q_r is None or self.q_d is None:
            return {}
        return {"quantiles_r": [float(v) for v in self.q_r], "quantiles_d": [float(v) for v in self.q_d]}

    def load_state(self, state: dict[str, Any]) -> None:
        if not state:
            self.q_r = self.q_d = None
            return
        q_r = np.asarray(state["quantiles_r"], dtype=np.float64)
        q_d = np.asarray(state["quantiles_d"], dtype=np.float64)
        for name, q in (("quantiles_r", q_r), ("quantiles_d", q_d)):
            if (
                q.ndim != 1
                or len(q) < 2
                or len(q) > 100 * RANK_QUANTILES
                or np.any(np.diff(q) < 0)
                or not np.isfinite(q).all()
            ):
                raise ValueError(f"ares-rank: state {name} must be a finite nondecreasing list of >= 2 values")
        self.q_r, self.q_d = q_r, q_d

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        yield {}
        yield {"k": 5, "alpha": 0.25, "density": "knn", "k_density": 8}
