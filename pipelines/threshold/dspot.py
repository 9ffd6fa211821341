"""DSPOT: SPOT on the residual x_i - M_i, M_i the mean of the last ``depth`` non-alarm scores (paper Algorithm 4).

Calibration needs the raw calibration sequence in order: the window starts as its first ``depth`` values, then
slides over the rest, and SPOT is calibrated on the ``len - depth`` residuals (so n starts at ``len - depth``).
As in the paper an alarm does not enter the window, so a step in the score larger than z_q is never absorbed and
alarms forever. ``absorb_after=K`` (default ``None``: the paper's rule) lets a persistent shift become the new
normal: from the (K+1)-th consecutive alarm on, alarmed scores do enter the window (never the peaks, never n),
so after a level shift the alarms stop within about K + depth windows.

Thresholds returned by ``step``/``update`` and ``threshold`` are in score units: M_i + z_q.
Window means are summed left to right in both the scalar and the vectorised path so they agree bit for bit.
"""
from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from pipelines.threshold.spot import SPOT, _finite

_CHUNK = 4096


def _window_means(seq: np.ndarray, d: int) -> np.ndarray:
    """Means of every run of d consecutive values, summed left to right like ``DSPOT._remean``."""
    k = seq.size - d + 1
    acc = seq[:k].copy()
    for j in range(1, d):
        acc += seq[j:j + k]
    return acc / d


class DSPOT(SPOT):
    """SPOT on deviations from a moving average of depth ``depth``; follows slow drift."""

    kind = "dspot"

    def __init__(self, q: float = 1e-4, level: float = 0.98, max_peaks: int | None = 500, refit_every: int = 1,
                 min_peaks: int = 10, depth: int = 10, absorb_after: int | None = None) -> None:
        super().__init__(q=q, level=level, max_peaks=max_peaks, refit_every=refit_every, min_peaks=min_peaks)
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        if absorb_after is not None and absorb_after < 0:
            raise ValueError(f"absorb_after must be None or >= 0, got {absorb_after}")
        self.depth, self.absorb_after = int(depth), absorb_after
        self._window: deque[float] = deque(maxlen=self.depth)
        self._m = math.nan
        self._run = 0

    def params(self) -> dict[str, Any]:
        return {**super().params(), "depth": self.depth, "absorb_after": self.absorb_after}

    @property
    def threshold(self) -> float:
        return self._m + self.z

    @property
    def window(self) -> np.ndarray:
        return np.array(self._window, dtype=np.float64)

    def initialize(self, calibration: np.ndarray) -> None:
        x = _finite(calibration, "calibration")
        need = math.ceil(self.min_peaks / (1.0 - self.level)) + self.depth
        if x.size < need:
            raise ValueError(f"need at least {need} calibration scores (depth={self.depth} + min_peaks="
                             f"{self.min_peaks} at level={self.level}), got {x.size}")
        residuals = x[self.depth:] - _window_means(x[:-1], self.depth)
        self._calibrate(residuals)
        self._set_window(x[-self.depth:])
        self._run = 0

    def _set_window(self, values: np.ndarray) -> None:
        self._window.clear()
        self._window.extend(values.tolist())
        self._remean()

    def _remean(self) -> None:
        it = iter(self._window)
        acc = next(it)
        for v in it:
            acc += v
        self._m = acc / self.depth

    def _push(self, x: float) -> None:
        self._window.append(x)
        self._remean()

    def _step(self, x: float) -> tuple[bool, float]:
        m, z = self._m, self.z
        r = x - m
        if r > z:
            self._run += 1
            if self.absorb_after is not None and self._run > self.absorb_after:
                self._push(x)
            return True, z + m
        self._run = 0
        self.n += 1
        if r > self.t:
            self._add_peak(r - self.t)
        self._push(x)
        return False, z + m

    def _update(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised while no alarm occurs (the window then just slides over the scores); after an alarm the
        following scores go through ``_step`` until the first non-alarm. Chunks bound the work redone per alarm."""
        size = xs.size
        alarms = np.zeros(size, dtype=bool)
        thr = np.empty(size, dtype=np.float64)
        pos = 0
        while pos < size:
            end = min(size, pos + _CHUNK)
            seq = np.concatenate([np.fromiter(self._window, np.float64, self.depth), xs[pos:end]])
            means = _window_means(seq[:-1], self.depth)
            r = xs[pos:end] - means
            n0, start, stop = self.n, 0, end - pos
            for i in np.flatnonzero(r > self.t).tolist():
                thr[pos + start:pos + i + 1] = self.z + means[start:i + 1]
                start = i + 1
                if r[i] > self.z:
                    stop = i
                    break
                self.n = n0 + i + 1
                self._add_peak(float(r[i]) - self.t)
            else:
                thr[pos + start:end] = self.z + means[start:]
            self.n = n0 + stop
            if stop:
                self._run = 0
                self._set_window(seq[stop:stop + self.depth])
            pos += stop
            while pos < end:
                alarms[pos], thr[pos] = self._step(float(xs[pos]))
                pos += 1
                if not alarms[pos - 1]:
                    break
        return alarms, thr

    def state(self) -> dict[str, Any]:
        return {**super().state(), "window": list(self._window), "run": self._run}

    def _load(self, d: dict[str, Any]) -> None:
        super()._load(d)
        if len(d["window"]) != self.depth:
            raise ValueError(f"window has {len(d['window'])} values, depth is {self.depth}")
        self._set_window(np.asarray(d["window"], dtype=np.float64))
        self._run = int(d["run"])

    def clone(self) -> "DSPOT":
        obj = super().clone()
        obj._window = deque(self._window, maxlen=self.depth)
        return obj
