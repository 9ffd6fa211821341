"""The DeAE + MLP poster's score on a model trained with the deae variant (pipelines/model/deae.py):

  s = |e - e'|   e: the window's squared reconstruction error (``Encoded.err``); e': the error MLP's prediction of it
                 from the window's latent code (``Encoded.extra["err_pred"]``)

An anomaly is a window whose error is not the one that normal windows with that latent code have: a high error
where normals with such codes reconstruct well, and also a low error in a region of the latent where normals do
not (the poster's Fig. 2). Both numbers come from the frozen model, so the scorer needs no reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipelines.scorers.base import Encoded, Scorer, ScoreResult


class DeAEMLP(Scorer):
    name = "deae-mlp"
    variants = ("deae",)

    def score(self, enc: Encoded, reference: Any, decode: Any) -> ScoreResult:
        if "err_pred" not in enc.extra:
            raise ValueError(
                f"scorer {self.name!r} needs a model trained with training variant deae: "
                "this batch's model has no error MLP"
            )
        predicted = np.asarray(enc.extra["err_pred"], dtype=np.float64)
        err = enc.err.astype(np.float64)
        return ScoreResult(
            score=np.abs(err - predicted), components={"recon_error": enc.err, "predicted_error": predicted}
        )
