from __future__ import annotations

from pipelines.scorers.base import Encoded, Scorer, ScoreResult


class Recon(Scorer):
    """The plain autoencoder score: squared reconstruction error in scaled input space."""

    name = "recon"

    def score(self, enc: Encoded, reference, decode) -> ScoreResult:
        return ScoreResult(score=enc.err.astype("float64"), components={"recon_error": enc.err})
