"""The daemon's one entry into computation: load an artifact, score a batch.

Interface first (the daemon codes against it); the implementation follows in the same module.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ScoredBatch:
    score: np.ndarray  # float64 [B]
    components: dict[str, np.ndarray]  # name -> float64 [B]
    neighbours: np.ndarray  # int64 [B, k]: reference window ids, nearest first
