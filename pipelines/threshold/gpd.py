"""Generalized Pareto tail fit by Grimshaw's method, as used by SPOT (Siffer et al., KDD 2017, section 4.2).

For excesses Y_1..Y_N > 0 the GPD log-likelihood is maximised over (gamma, sigma). Grimshaw's trick reduces this
to one variable: with x = gamma / sigma, every interior extremum solves w(x) = u(x) v(x) - 1 = 0 where
u(x) = mean(1 / (1 + x Y)) and v(x) = 1 + mean(log(1 + x Y)); then gamma = v(x) - 1 and sigma = gamma / x.
The roots lie in (-1/Y_max, 0) or (0, 2 (mean(Y) - Y_min) / Y_min^2]. x = 0 is always a (trivial) root: it is the
exponential case gamma = 0, sigma = mean(Y). The estimate is the candidate with the highest likelihood.

Instead of the paper's multi-start L-BFGS-B search, w is evaluated on a fixed log-spaced grid of each interval in
one vectorised pass; every sign change brackets a root that brentq then polishes. Two roots closer together than
one grid step would be missed; both would then be near-equal likelihood points and the exponential candidate is
always available, so the fit stays a valid (if not the global) maximum.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

_LEFT_X = -np.unique(np.concatenate([np.geomspace(1e-4, 0.5, 10), 1.0 - np.geomspace(0.5, 1e-10, 16)]))[::-1]
_RIGHT_U = np.linspace(0.0, 1.0, 26)
_RIGHT_SPAN = 1e-4


def log_likelihood(y: np.ndarray, gamma: float, sigma: float) -> float:
    """GPD log-likelihood of excesses y; -inf outside the support."""
    n = y.size
    if sigma <= 0:
        return -math.inf
    if gamma == 0.0:
        return -n * math.log(sigma) - float(y.sum()) / sigma
    s = 1.0 + (gamma / sigma) * y
    if np.any(s <= 0):
        return -math.inf
    return -n * math.log(sigma) - (1.0 + 1.0 / gamma) * float(np.log(s).sum())


def _w_grid(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    s = np.multiply.outer(x, y)
    s += 1.0
    u = np.reciprocal(s).sum(axis=1)
    v = np.log(s, out=s).sum(axis=1)
    n = y.size
    w: np.ndarray = (u / n) * (1.0 + v / n) - 1.0
    return w


def _w(x: float, y: np.ndarray) -> float:
    s = 1.0 + x * y
    n = y.size
    return float((np.reciprocal(s).sum() / n) * (1.0 + np.log(s).sum() / n) - 1.0)


def _roots(grid: np.ndarray, y: np.ndarray) -> list[float]:
    """Roots of w between consecutive grid points of opposite sign; a NaN in the grid separates intervals."""
    w = _w_grid(grid, y)
    ok = np.isfinite(w)
    sign_change = np.flatnonzero(ok[:-1] & ok[1:] & (np.sign(w[:-1]) * np.sign(w[1:]) < 0))
    return [brentq(_w, grid[i], grid[i + 1], args=(y,), xtol=1e-13 * abs(grid[i]), rtol=1e-11) for i in sign_change]


def grimshaw(peaks: np.ndarray, max_shape: float | None = None) -> tuple[float, float]:
    """Maximum-likelihood (gamma, sigma) of a GPD fitted to positive excesses, with gamma <= ``max_shape`` if given.

    The peaks are sorted first so the result depends only on the multiset of peaks (bit-identical refits after a
    checkpoint restore, whatever order the buffer was stored in). When the free maximum lies above ``max_shape``
    the bounded one is on the boundary: gamma = max_shape and sigma its profile maximum (``sigma_at_shape``).
    """
    y = np.sort(np.asarray(peaks, dtype=np.float64))
    if y.size == 0 or y[0] <= 0:
        raise ValueError(f"grimshaw needs positive excesses, got {y.size} values with min {y[:1]}")
    y_min, y_max, y_mean = float(y[0]), float(y[-1]), float(y.mean())
    best = (0.0, y_mean, log_likelihood(y, 0.0, y_mean))
    if y_max == y_min:
        return best[0], best[1]
    grid = _LEFT_X / y_max
    x_max = 2.0 * (y_mean - y_min) / (y_min * y_min)
    x_lo = _RIGHT_SPAN / y_mean
    if x_max > x_lo:
        grid = np.concatenate([grid, [np.nan], x_lo * (x_max / x_lo) ** _RIGHT_U])
    candidates = _roots(grid, y)
    for x in candidates:
        gamma = float(np.log1p(x * y).mean())
        sigma = gamma / x
        ll = log_likelihood(y, gamma, sigma)
        if ll > best[2]:
            best = (gamma, sigma, ll)
    if max_shape is not None and best[0] > max_shape:
        return float(max_shape), sigma_at_shape(y, float(max_shape))
    return best[0], best[1]


def sigma_at_shape(y: np.ndarray, gamma: float) -> float:
    """The sigma that maximises the GPD likelihood of y > 0 at a fixed gamma > 0: the root of
    (1 + gamma) mean(y / (sigma + gamma y)) = 1, which falls from 1/gamma (sigma -> 0) to -1 (sigma -> inf)."""

    def h(s: float) -> float:
        return float((1.0 + gamma) * np.mean(y / (s + gamma * y)) - 1.0)

    lo, hi = float(y.min()) * 1e-9, float(y.max()) * (1.0 + gamma) * 2.0
    while h(hi) > 0:
        hi *= 4.0
    return float(brentq(h, lo, hi, xtol=1e-14 * hi, rtol=1e-12))


def tail_quantile(t: float, gamma: float, sigma: float, q: float, n: int, n_peaks: int) -> float:
    """z_q = t + (sigma/gamma) ((q n / N_t)^(-gamma) - 1), or t - sigma log(q n / N_t) when gamma = 0."""
    log_r = math.log(q * n / n_peaks)
    if gamma == 0.0:
        return t - sigma * log_r
    return t + (sigma / gamma) * math.expm1(-gamma * log_r)
