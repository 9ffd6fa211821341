"""The one interface every scorer implements.

The online pipeline encodes a batch once and finds its latent neighbours once (`Encoded`); every scorer then
turns that shared work into a score and its named components. Hyperparameters live only in ``__init__``;
whatever a scorer learns from validation normals (normalisation statistics) lives in ``state()`` so an artifact
can store it and ``load_state`` restores identical scores.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Encoded:
    """A batch after the frozen model and the neighbour search.

    x: scaled input [B, d]; z: latent [B, l]; xhat: reconstruction [B, d]; err: squared reconstruction error [B];
    nbr_idx: reference item ids of the k nearest latent neighbours [B, k], nearest first; nbr_dist: their euclidean
    latent distances [B, k]; extra: what the model's training variant adds per window for its scorers
    (``FrozenModel.extra``; the LFR variant: err_b, lfr_residual), empty for the plain autoencoder.
    """

    x: np.ndarray
    z: np.ndarray
    xhat: np.ndarray
    err: np.ndarray
    nbr_idx: np.ndarray
    nbr_dist: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.err.shape[0])


@dataclass(frozen=True)
class ScoreResult:
    score: np.ndarray
    components: dict[str, np.ndarray] = field(default_factory=dict)


class Scorer(ABC):
    """Base class: ``fit`` on validation normals (optional), then ``score`` batches.

    ``reference`` is a ``pipelines.reference.Reference`` (per-item statistics of the normal windows) and
    ``decode`` maps latent codes [n, l] to reconstructions [n, d] (only NLN needs it).
    """

    name: str  # the registry name; ``make_scorer`` sets it on the instance (one class serves several names)
    k_needed: int = 0  # neighbours a score reads; scorers with a k set it per instance
    # the training variants (pipelines/model/variants.py) whose models this scorer can score; None: every one
    variants: tuple[str, ...] | None = None

    def fit(self, enc: Encoded, reference: Any, decode: Any) -> Scorer:
        return self

    @abstractmethod
    def score(self, enc: Encoded, reference: Any, decode: Any) -> ScoreResult: ...

    def params(self) -> dict[str, Any]:
        return {}

    def state(self) -> dict[str, Any]:
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        if state:
            raise ValueError(f"scorer {self.name!r} has no state, got keys {sorted(state)}")

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        """Hyperparameter sets the shared checks build this scorer from (tests/pipelines/scorers/): the defaults,
        and for a scorer with hyperparameters a set away from every default, so a ``params()`` that forgot one would
        restore a scorer that scores differently."""
        yield {}
