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


# Central quantile ranges tried in turn by robust_scale: (lower percentile, the range's width in standard deviations
# of a normal distribution, so every rung estimates the same sigma on gaussian data).
SCALE_RANGES = ((25.0, 1.3490), (10.0, 2.5631), (5.0, 3.2897), (1.0, 4.6527))
SCALE_REL_TOL = 1e-6  # a range below this fraction of the values' magnitude is float noise around a tie, not spread


def robust_scale(v: np.ndarray) -> tuple[float, float]:
    """A scale for one score part on validation normals: (scale, lower percentile of the range it came from).

    The interquartile range, widened to the 10-90, 5-95, then 1-99 percentile range while it is zero, each divided
    by the same range of a standard normal (IQR / 1.349, ...). Why widen rather than fall back to MAD or the
    standard deviation: reference sets with many identical windows tie most validation normals at one value of a
    part (EOPT, seed 0: 64 % of them have latent LOF = 1 up to float rounding, and 32 % local reconstruction 0).
    Then the IQR and the MAD are both zero, and the standard deviation is set by a few extreme values (LOF's tail,
    where a window next to a cluster of duplicates gets its distance over the reachability floor: std 363, IQR 0,
    10-90 range 101 / 2.563). A wider central range still measures the bulk of the distribution and ignores the
    extreme 1 %. A range counts as zero below SCALE_REL_TOL x the largest |quantile| (float noise around a tie).
    If even the 1-99 range is zero the part is constant on normals: scale 1 (no rescaling), percentile -1.
    """
    v = np.asarray(v, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return 1.0, -1.0
    for lo, width in SCALE_RANGES:
        q_lo, q_hi = np.percentile(v, [lo, 100.0 - lo])
        spread = q_hi - q_lo
        if spread > max(SCALE_REL_TOL * max(abs(q_lo), abs(q_hi)), 1e-300):
            return float(spread / width), lo
    return 1.0, -1.0
