"""CANCE's scores on a model trained with the cance variant (pipelines/model/cance.py): the estimated negative log
density of the window's feature vector under one of its estimation networks,

  s = -(G(c) + log p_n(c))   G: the network's log-odds (``Encoded.extra["{head}_logodds"]``); p_n: its final,
                             scaled noise Gaussian (``{head}_lognoise``)

with c the composite feature [z, ||x - xhat||^2 / d, 1 - cos(x, xhat)] ("cance": trained with eq. 8's augmentation;
"cnce": without) or z alone ("latnce"): the paper's Table 1 ablation, all three from one autoencoder. Both numbers
come from the frozen model, so the scorer needs no reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from pipelines.scorers.base import Encoded, Scorer, ScoreResult

HEADS = ("cance", "cnce", "latnce")


class CANCEScore(Scorer):
    name = "cance"
    variants = ("cance",)

    def __init__(self, head: str = "cance") -> None:
        if head not in HEADS:
            raise ValueError(f"cance: head must be one of {HEADS}, got {head!r}")
        self.head = head

    def score(self, enc: Encoded, reference: Any, decode: Any) -> ScoreResult:
        key = f"{self.head}_logodds"
        if key not in enc.extra:
            raise ValueError(
                f"scorer {self.name!r} needs a model trained with training variant cance: "
                "this batch's model has no estimation networks"
            )
        logodds = np.asarray(enc.extra[key], dtype=np.float64)
        lognoise = np.asarray(enc.extra[f"{self.head}_lognoise"], dtype=np.float64)
        components = {
            "recon_error": enc.err,
            "logodds": logodds,
            "log_noise": lognoise,
            "err_norm": np.asarray(enc.extra["err_norm"], dtype=np.float64),
            "cos_dissim": np.asarray(enc.extra["cos_dissim"], dtype=np.float64),
        }
        return ScoreResult(score=-(logodds + lognoise), components=components)

    def params(self) -> dict[str, Any]:
        return {"head": self.head}

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        yield {}
        yield {"head": "latnce"}
