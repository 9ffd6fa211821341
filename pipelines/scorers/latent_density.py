"""Density-only ablations (ARES Table 3): LOF or k-NN distance in latent space, no reconstruction term."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipelines.scorers.base import Encoded, Scorer, ScoreResult
from pipelines.scorers.parts import knn_distance, lof


class LOFLatent(Scorer):
    name = "lof-latent"

    def __init__(self) -> None:
        self.k_needed = 0

    def score(self, enc: Encoded, reference, decode) -> ScoreResult:
        d = lof(enc, reference)
        return ScoreResult(score=d, components={"lof": d})


class KNNLatent(Scorer):
    name = "knn-latent"

    def __init__(self, k: int = 20) -> None:
        if k < 1:
            raise ValueError(f"knn-latent: k must be >= 1, got {k}")
        self.k = self.k_needed = int(k)

    def score(self, enc: Encoded, reference, decode) -> ScoreResult:
        d = knn_distance(enc, self.k)
        return ScoreResult(score=d, components={"knn": d})

    def params(self) -> dict[str, Any]:
        return {"k": self.k}

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        yield {}
        yield {"k": 7}
