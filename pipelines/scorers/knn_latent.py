"""The latent k-NN ablation (ARES Table 3, KNN column): the distance to the window's k-th latent neighbour in the
reference, no reconstruction term."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipelines.scorers.base import Encoded, Scorer, ScoreResult
from pipelines.scorers.neighbourhood import knn_distance


class KNNLatent(Scorer):
    name = "knn-latent"

    def __init__(self, k: int = 20) -> None:
        if k < 1:
            raise ValueError(f"knn-latent: k must be >= 1, got {k}")
        self.k = self.k_needed = int(k)

    def score(self, enc: Encoded, reference: Any, decode: Any) -> ScoreResult:
        d = knn_distance(enc, self.k)
        return ScoreResult(score=d, components={"knn": d})

    def params(self) -> dict[str, Any]:
        return {"k": self.k}

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        yield {}
        yield {"k": 7}
