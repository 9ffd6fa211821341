"""rank-mean: the mean of member scorers' ranks, s(x) = (1/m) sum_i F_i(s_i(x)).

s_i are the scores of the member scorers (``members``, registry names; default ares-cal and nln), each fitted on the
validation normals as it would be alone; F_i is the empirical CDF of s_i on those same normals, stored as 1,001
quantiles and mapped as ares-rank maps its parts (``normalisation.ecdf_map``: mid-rank ties, linear beyond the
validation range, so a window past every normal stays ordered by its members' own values). Why ranks: the members'
scores live on unrelated scales (ares-cal a sum of robust z-like parts, nln a [0, 1]-on-normals mix), and a rank on
normals means the same thing for every member, whatever the input scaler did to its scale.

All members read one ``Encoded`` batch, so the combination costs the members' scoring, not another encoding. A model
must suit every member: ``variants`` is the intersection of theirs and ``k_needed`` the largest.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from pipelines.scorers.base import Encoded, Scorer, ScoreResult
from pipelines.scorers.normalisation import RANK_QUANTILES, ecdf_map, ecdf_quantiles

DEFAULT_MEMBERS = ("ares-cal", "nln")


class RankMean(Scorer):
    name = "rank-mean"

    def __init__(self, members: Sequence[str] = DEFAULT_MEMBERS) -> None:
        from pipelines.scorers import REGISTRY, make_scorer  # the registry imports this module

        if isinstance(members, str) or len(members) < 2:
            raise ValueError(f"rank-mean: members must list at least two scorer names, got {members!r}")
        names = [str(m) for m in members]
        if len(set(names)) != len(names):
            raise ValueError(f"rank-mean: members must be distinct, got {names}")
        for m in names:
            if m not in REGISTRY:
                raise ValueError(f"rank-mean: unknown member scorer {m!r}; choose from {sorted(REGISTRY)}")
            if issubclass(REGISTRY[m][0], RankMean):
                raise ValueError(f"rank-mean: member {m!r} is itself a combination; list its members instead")
        self.members = {m: make_scorer(m) for m in names}
        allowed: set[str] | None = None
        for sc in self.members.values():
            if sc.variants is not None:
                allowed = set(sc.variants) if allowed is None else allowed & set(sc.variants)
        if allowed is not None and not allowed:
            raise ValueError(f"rank-mean: members {names} share no training variant, so no model suits them all")
        self.variants = None if allowed is None else tuple(sorted(allowed))
        self.k_needed = max(sc.k_needed for sc in self.members.values())
        self.quantiles: dict[str, np.ndarray] | None = None

    def fit(self, enc: Encoded, reference: Any, decode: Any) -> RankMean:
        quantiles = {}
        for m, sc in self.members.items():
            sc.fit(enc, reference, decode)
            quantiles[m] = ecdf_quantiles(sc.score(enc, reference, decode).score)
        self.quantiles = quantiles
        return self

    def score(self, enc: Encoded, reference: Any, decode: Any) -> ScoreResult:
        if self.quantiles is None:
            raise RuntimeError("rank-mean must be fitted on validation normals before scoring (its members' CDFs)")
        ranks = {}
        for m, sc in self.members.items():
            ranks[f"{m}_rank"] = ecdf_map(sc.score(enc, reference, decode).score, self.quantiles[m])
        score = np.mean(np.stack(list(ranks.values())), axis=0)
        return ScoreResult(score=score, components={"recon_error": enc.err, **ranks})

    def params(self) -> dict[str, Any]:
        return {"members": list(self.members)}

    def state(self) -> dict[str, Any]:
        if self.quantiles is None:
            return {}
        return {
            m: {"quantiles": [float(v) for v in self.quantiles[m]], "state": sc.state()}
            for m, sc in self.members.items()
        }

    def load_state(self, state: dict[str, Any]) -> None:
        if not state:
            self.quantiles = None
            return
        if set(state) != set(self.members):
            raise ValueError(f"rank-mean: state has members {sorted(state)}, params have {sorted(self.members)}")
        quantiles = {}
        for m, sc in self.members.items():
            q = np.asarray(state[m]["quantiles"], dtype=np.float64)
            if (
                q.ndim != 1
                or not 2 <= len(q) <= 100 * RANK_QUANTILES
                or np.any(np.diff(q) < 0)
                or not np.isfinite(q).all()
            ):
                raise ValueError(f"rank-mean: state of member {m!r}: quantiles must be a finite nondecreasing list")
            sc.load_state(state[m]["state"])
            quantiles[m] = q
        self.quantiles = quantiles

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        yield {}
        yield {"members": ["ares-rank", "recon", "knn-latent"]}
