"""Raw multichannel series -> one vector per sliding window. Training and the replay producer both call this, so
a model always sees windows built exactly as at training time.

Window i covers rows [i*stride, i*stride + length); trailing rows that do not fill a whole window are dropped, so
there are m = (n - length) // stride + 1 windows. Modes:
- "flatten": the raw window, row-major time x channel: [x[t0,c0], x[t0,c1], ..., x[t0+length-1,c-1]] (length*c dims);
- "summary": per channel, in channel order, the SUMMARY_STATS of that channel over the window (5*c dims);
  std is the population std (ddof=0) and "delta" is last - first.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

MODES = ("flatten", "summary")
SUMMARY_STATS: tuple[str, ...] = ("mean", "std", "min", "max", "delta")


def _check(n: int, length: int, stride: int) -> int:
    for name, v in (("length", length), ("stride", stride)):
        if not isinstance(v, Integral) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    if n < length:
        raise ValueError(f"series has {n} rows, fewer than the window length {length}")
    return (n - length) // stride + 1


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"unknown window mode {mode!r}; expected one of {MODES}")


def window_vectors(values: np.ndarray, length: int, stride: int, mode: str = "summary") -> np.ndarray:
    """float64 [m, dim]: one vector per window of `values` [n, c]; dim = length*c (flatten) or 5*c (summary)."""
    _check_mode(mode)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"values must be 2-D [n, channels], got shape {values.shape}")
    m = _check(values.shape[0], length, stride)
    if mode == "flatten":
        # sliding_window_view puts the window axis last: [n-length+1, c, length] -> [m, length, c]
        w = sliding_window_view(values, length, axis=0)[::stride].transpose(0, 2, 1)
        return np.ascontiguousarray(w).reshape(m, length * values.shape[1])
    w = sliding_window_view(values, length, axis=0)[::stride]  # [m, c, length], a view
    stats = np.stack(
        [w.mean(axis=2), w.std(axis=2), w.min(axis=2), w.max(axis=2), w[:, :, -1] - w[:, :, 0]], axis=2
    )  # [m, c, 5]
    return stats.reshape(m, values.shape[1] * len(SUMMARY_STATS))


def window_labels(labels: np.ndarray, length: int, stride: int) -> np.ndarray:
    """int64 [m]: 1 where any row of the window has a non-zero label, else 0."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {labels.shape}")
    _check(labels.shape[0], length, stride)
    hit = np.asarray(sliding_window_view(labels != 0, length)[::stride].any(axis=1))
    return hit.astype(np.int64)


def window_end_index(n: int, length: int, stride: int) -> np.ndarray:
    """int64 [m]: index of each window's last row (to align a window's score with a timestamp or a row label)."""
    m = _check(n, length, stride)
    return np.arange(m, dtype=np.int64) * stride + (length - 1)


def window_feature_names(channel_names: Sequence[str], length: int, mode: str = "summary") -> tuple[str, ...]:
    """Names matching window_vectors' columns: 'ch[k]' (k = offset in the window, flatten) or 'ch:stat' (summary)."""
    _check_mode(mode)
    _check(length, length, 1)
    if mode == "flatten":
        return tuple(f"{ch}[{k}]" for k in range(length) for ch in channel_names)
    return tuple(f"{ch}:{s}" for ch in channel_names for s in SUMMARY_STATS)
