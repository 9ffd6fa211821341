"""Score parts shared by the latent-neighbour scorers, vectorised over the batch."""
from __future__ import annotations

import numpy as np

from pipelines.scorers.base import Encoded


def local_recon(enc: Encoded, reference, k: int) -> np.ndarray:
    """ARES eq. 6: own squared error minus the median squared error of the k latent neighbours."""
    return enc.err - np.median(reference.err[enc.nbr_idx[:, :k]], axis=1)


def lof(enc: Encoded, reference) -> np.ndarray:
    """LOF of each query against the reference (eq. 1), with the reference's own k and distance floor."""
    k = reference.k
    reach = reference.reach(enc.nbr_idx[:, :k], enc.nbr_dist[:, :k])
    return reference.lrd[enc.nbr_idx[:, :k]].mean(axis=1) * reach.mean(axis=1)


def knn_distance(enc: Encoded, k: int) -> np.ndarray:
    return enc.nbr_dist[:, k - 1].astype(np.float64)


def robust_scale(v: np.ndarray) -> float:
    """A scale for one score part on validation normals: IQR/1.349, else MAD*1.4826, else std, never 0."""
    v = np.asarray(v, dtype=np.float64)
    q25, q50, q75 = np.percentile(v, [25, 50, 75])
    for s in ((q75 - q25) / 1.349, 1.4826 * np.median(np.abs(v - q50)), v.std()):
        if s > 1e-12:
            return float(s)
    return 1.0
