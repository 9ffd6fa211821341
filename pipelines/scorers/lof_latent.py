"""The latent-LOF ablation (ARES Table 3, LOF column): the window's LOF in latent space against the reference, no
reconstruction term."""

from __future__ import annotations

from typing import Any

from pipelines.scorers.base import Encoded, Scorer, ScoreResult
from pipelines.scorers.neighbourhood import lof


class LOFLatent(Scorer):
    name = "lof-latent"

    def __init__(self) -> None:
        self.k_needed = 0

    def score(self, enc: Encoded, reference: Any, decode: Any) -> ScoreResult:
        d = lof(enc, reference)
        return ScoreResult(score=d, components={"lof": d})
