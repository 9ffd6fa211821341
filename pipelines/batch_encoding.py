"""Encode a batch once and find its latent neighbours once; every scorer reads the result."""

from __future__ import annotations

import numpy as np

from pipelines.model.frozen import FrozenModel
from pipelines.reference.build import Reference
from pipelines.scorers.base import Encoded


def neighbours_needed(reference: Reference, *scorers: object) -> int:
    """The neighbours to look up: the reference's k, or more where a scorer reads more (its ``k_needed``)."""
    return max([reference.k, *(getattr(s, "k_needed", 0) for s in scorers)])


def encode_batch(model: FrozenModel, reference: Reference, X: np.ndarray, k: int) -> Encoded:
    Xs, z, xhat, err = model.encode(X)
    idx, dist = reference.neighbours(z, k)
    return Encoded(x=Xs, z=z, xhat=xhat, err=err, nbr_idx=idx, nbr_dist=dist, extra=model.extra(Xs, z, xhat))
