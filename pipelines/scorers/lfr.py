"""AE-LFR's scores (LFR paper, eq. 5 and 7) on a model trained with an LFR variant (pipelines/model/variants.py).

  S_B = ||x - decoder(A^T A z)||^2   (``score="B"``, the default: AE-LFR's own score)
  S_A = ||x - decoder(z)||^2         (``score="A"``: the plain reconstruction error of the same model)

The decoder fed A^T A z is computed once per batch by the frozen model (``Encoded.extra["err_b"]``), so this scorer
reads it and needs no reference. ARES and NLN score an LFR model on its latents z (the encoder's output), which the
reference holds: the paper's S_B changes only the decoder's input, and what A^T A drops from z (the part off the
inliers' subspace) is what tells a contaminating anomaly apart, so the neighbourhood is kept in z.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from pipelines.scorers.base import Encoded, Scorer, ScoreResult


class LFRScore(Scorer):
    name = "lfr"
    variants = ("lfr", "lfr-b")

    def __init__(self, score: str = "B") -> None:
        if score not in ("A", "B"):
            raise ValueError(f"lfr: score must be 'A' (decoder fed z) or 'B' (decoder fed A^T A z), got {score!r}")
        self.which = score

    def score(self, enc: Encoded, reference: Any, decode: Any) -> ScoreResult:
        if "err_b" not in enc.extra:
            raise ValueError(
                f"scorer {self.name!r} needs a model trained with an LFR variant ({' or '.join(self.variants)}): "
                "this batch's model has no LFR layer"
            )
        err_b = np.asarray(enc.extra["err_b"], dtype=np.float64)
        chosen = err_b if self.which == "B" else enc.err.astype(np.float64)
        return ScoreResult(
            score=chosen,
            components={"recon_error": enc.err, "lfr_error": err_b, "lfr_residual": enc.extra["lfr_residual"]},
        )

    def params(self) -> dict[str, Any]:
        return {"score": self.which}

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        yield {}
        yield {"score": "A"}
