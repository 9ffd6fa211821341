"""Score parts from a window's latent neighbours, shared by the neighbour scorers and vectorised over the batch: ARES's
local reconstruction (eq. 6), the latent LOF against the reference (eq. 1) and the k-NN distance."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipelines.scorers.base import Encoded


def local_recon(enc: Encoded, reference: Any, k: int) -> np.ndarray:
    """ARES eq. 6: own squared error minus the median squared error of the k latent neighbours."""
    out: np.ndarray = enc.err - np.median(reference.err[enc.nbr_idx[:, :k]], axis=1)
    return out


def lof(enc: Encoded, reference: Any) -> np.ndarray:
    """LOF of each query against the reference (eq. 1), with the reference's own k and distance floor."""
    k = reference.k
    reach = reference.reach(enc.nbr_idx[:, :k], enc.nbr_dist[:, :k])
    out: np.ndarray = reference.lrd[enc.nbr_idx[:, :k]].mean(axis=1) * reach.mean(axis=1)
    return out


def knn_distance(enc: Encoded, k: int) -> np.ndarray:
    return enc.nbr_dist[:, k - 1].astype(np.float64)
