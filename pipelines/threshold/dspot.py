"""DSPOT: SPOT on the residual x_i - M_i, M_i the mean of the last ``depth`` non-alarm scores (paper Algorithm 4).

Calibration needs the raw calibration sequence in order: the window starts as its first ``depth`` values, then
slides over the rest, and SPOT is calibrated on the ``len - depth`` residuals (so n starts at ``len - depth``).
As in the paper an alarm does not enter the window, so a step in the score larger than z_q alarms for as long as
it lasts: a persistent fault stays alarmed (one open episode, ``pipelines/episodes/episodes.py``), and so does a
benign level shift until the reference is refreshed at the new level. An alarm count never moves "normal": the
``absorb_after`` option that once let the (K+1)-th consecutive alarm into the window is gone, because it silenced
SKAB's faults (about 400 windows each) after K = 30 (docs/thresholds.md). A shift smaller than z_q is followed by
the window as the paper intends.

Thresholds returned by ``step``/``update`` and ``threshold`` are in score units: M_i + z_q.
Window means are summed left to right in both the scalar and the vectorised path so they agree bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, Self

import numpy as np

from pipelines import defaults as D
from pipelines.threshold.params import finite as _finite
from pipelines.threshold.spot import SPOT

_CHUNK = 4096


def _window_means(seq: np.ndarray, d: int) -> np.ndarray:
    """Means of every run of d consecutive values, summed left to right like ``DSPOT._remean``."""
    k = seq.size - d + 1
    acc = seq[:k].copy()
    for j in range(1, d):
        acc += seq[j : j + k]
    return acc / d


class DSPOT(SPOT):
    """SPOT on deviations from a moving average of depth ``depth``; follows slow drift."""

    kind = "dspot"
    __slots__ = ("depth", "_window", "_m")

    def __init__(self, depth: int = D.DEPTH, **spot: Any) -> None:
        """``spot``: SPOT's parameters (q, level, max_peaks, refit_every, min_peaks and the guard's)."""
        super().__init__(**spot)
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self.depth = int(depth)
        self._window: list[float] = []  # the last ``depth`` non-alarm scores, oldest first
        self._m = math.nan

    def params(self) -> dict[str, Any]:
        return {**super().params(), "depth": self.depth}

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        for i, params in enumerate(SPOT._unit_test_params()):
            yield {**params, "depth": (D.DEPTH, 25)[i % 2]}

    @classmethod
    def _params_of(cls, params: dict[str, Any]) -> dict[str, Any]:
        """A state from before absorb_after was removed loads when it ran the paper's rule (None); one that
        absorbed alarms did not, and continuing it under another policy would change what is alerted."""
        params = dict(params)
        absorb = params.pop("absorb_after", None)
        if absorb is not None:
            raise ValueError(
                f"this DSPOT state absorbed alarms into its baseline (absorb_after={absorb}), a policy "
                "that was removed (a persistent fault now stays alarmed): start it from the "
                "calibration instead"
            )
        return params

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
            raise ValueError(
                f"need at least {need} calibration scores (depth={self.depth} + min_peaks="
                f"{self.min_peaks} at level={self.level}), got {x.size}"
            )
        residuals = x[self.depth :] - _window_means(x[:-1], self.depth)
        self._calibrate(residuals)
        self._set_window(x[-self.depth :])

    def _set_window(self, values: np.ndarray) -> None:
        self._window = values.tolist()[-self.depth :]
        self._remean()

    def _remean(self) -> None:
        it = iter(self._window)
        acc = next(it)
        for v in it:
            acc += v
        self._m = acc / self.depth

    def _push(self, x: float) -> None:
        self._window.append(x)
        if len(self._window) > self.depth:
            del self._window[0]
        self._remean()

    def _step(self, x: float) -> tuple[bool, float]:
        m, z = self._m, self.z
        r = x - m
        if r > z:
            return True, z + m
        self._tick()
        if r > self.t:
            self._peak(r - self.t)
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
            counted, start, stop = 0, 0, end - pos
            for i in np.flatnonzero(r > self.t).tolist():
                thr[pos + start : pos + i + 1] = self.z + means[start : i + 1]
                start = i + 1
                if r[i] > self.z:
                    stop = i
                    break
                self._tick(i + 1 - counted)
                counted = i + 1
                self._peak(float(r[i]) - self.t)
            else:
                thr[pos + start : end] = self.z + means[start:]
            self._tick(stop - counted)
            if stop:
                self._set_window(seq[stop : stop + self.depth])
            pos += stop
            while pos < end:
                alarms[pos], thr[pos] = self._step(float(xs[pos]))
                pos += 1
                if not alarms[pos - 1]:
                    break
        return alarms, thr

    def state(self) -> dict[str, Any]:
        return {**super().state(), "window": list(self._window)}

    def _load(self, d: dict[str, Any]) -> None:
        super()._load(d)
        if len(d["window"]) != self.depth:
            raise ValueError(f"window has {len(d['window'])} values, depth is {self.depth}")
        self._set_window(np.asarray(d["window"], dtype=np.float64))

    def _extra(self) -> np.ndarray:
        return np.fromiter(self._window, np.float64, len(self._window))

    def _load_extra(self, extra: np.ndarray) -> None:
        if extra.size != self.depth:
            raise ValueError(f"window has {extra.size} values, depth is {self.depth}")
        self._set_window(extra)

    def clone(self) -> Self:
        obj = super().clone()
        obj._window = list(self._window)
        return obj
