from __future__ import annotations

from typing import Any

from pipelines.scorers.base import Encoded, Scorer, ScoreResult


class Recon(Scorer):
    """The plain autoencoder score: squared reconstruction error in scaled input space."""

    name = "recon"

    def score(self, enc: Encoded, reference: Any, decode: Any) -> ScoreResult:
        return ScoreResult(score=enc.err.astype("float64"), components={"recon_error": enc.err})
