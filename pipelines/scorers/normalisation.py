"""Normalisation of score parts, fitted on validation normals: ares-cal's robust scale of each part and ares-rank's
empirical CDF of each part (a fixed grid of quantiles) with the map through it."""

from __future__ import annotations

import numpy as np

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


# ares-rank: each part through its empirical CDF on validation normals, stored as a fixed grid of quantiles.
RANK_QUANTILES = 1001  # stored quantiles per part (probabilities 0, 0.001, ..., 1): bounded state, any val size
RANK_TIE_REL_TOL = 1e-6  # values closer than this x the part's 1-99 percentile range are a tie (float noise)


def ecdf_quantiles(v: np.ndarray, n: int = RANK_QUANTILES) -> np.ndarray:
    """The n quantiles (probabilities 0..1, evenly spaced; numpy's linear rule) of the finite values of ``v``.

    With linear interpolation the i-th of m sorted values sits at probability i / (m - 1), so the grid is the
    values' empirical CDF, thinned to n points. No finite value: all zeros (every value maps by extrapolation).
    """
    v = np.asarray(v, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.zeros(n)
    q: np.ndarray = np.quantile(v, np.linspace(0.0, 1.0, n))
    return q


def ecdf_tie_tol(q: np.ndarray) -> float:
    """Absolute tie tolerance of a quantile grid: RANK_TIE_REL_TOL x its 1-99 percentile range (0 if constant)."""
    n = len(q)
    lo, hi = q[int(round(0.01 * (n - 1)))], q[int(round(0.99 * (n - 1)))]
    return float(RANK_TIE_REL_TOL * (hi - lo))


def ecdf_map(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Map values through the CDF that the quantile grid ``q`` (nondecreasing, probabilities j / (n-1)) describes.

    - Inside the range: linear interpolation between the two neighbouring grid points.
    - Ties: a value within the tie tolerance of one or more grid points gets the mid-rank of that block, the mean of
      its lowest and highest probability (the average rank under random tie-breaking). On EOPT about 3/4 of the
      validation normals have LOF = 1 (up to float rounding); the mid-rank puts them at ~0.38, a value just above the
      block at ~0.75. The upper CDF value would put the tied bulk at 0.75, i.e. rank the most typical value of the
      part like its 75th percentile. The tolerance keeps float noise around a tie from spreading the tied rows over
      the block's whole probability range (which would add a random term to their scores).
    - Beyond the range: the line continues with the average slope of the upper (lower) half of the grid,
      F = 1 + 0.5 (x - q_max) / (q_max - q_median) above, F = -0.5 (q_min - x) / (q_median - q_min) below, so values
      past every validation normal stay ordered by the part's own value (inf stays inf). Monotone nondecreasing.
    """
    x = np.asarray(x, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    n = len(q)
    p = np.arange(n, dtype=np.float64) / (n - 1)
    eps = ecdf_tie_tol(q)
    lo = np.searchsorted(q, x - eps, side="left")  # first grid point >= x - eps
    hi = np.searchsorted(q, x + eps, side="right")  # first grid point > x + eps
    out = np.empty_like(x)
    tie = hi > lo
    out[tie] = 0.5 * (p[lo[tie]] + p[hi[tie] - 1])
    above, below = ~tie & (lo >= n), ~tie & (hi <= 0)
    med = q[(n - 1) // 2]
    up = _positive(q[-1] - med, q[-1] - q[0])
    down = _positive(med - q[0], q[-1] - q[0])
    out[above] = 1.0 + 0.5 * (x[above] - q[-1]) / up
    out[below] = -0.5 * (q[0] - x[below]) / down
    mid = ~tie & ~above & ~below  # q[lo - 1] < x - eps and x + eps < q[lo]: strictly between two grid points
    j = lo[mid]
    q0, q1 = q[j - 1], q[j]
    out[mid] = p[j - 1] + (x[mid] - q0) / (q1 - q0) * (p[j] - p[j - 1])
    return out


def _positive(*candidates: float) -> float:
    for c in candidates:
        if c > 0:
            return float(c)
    return 1.0
