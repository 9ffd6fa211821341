"""SPOT and DSPOT streaming thresholds (Siffer, Fouque, Termier, Largouet, KDD 2017, Algorithms 2 and 4).

Calibration: t = numpy's (linear) empirical quantile ``level`` of the calibration scores, peaks = scores above t
minus t, GPD (gamma, sigma) by Grimshaw's method, z_q from ``gpd.tail_quantile``. Streaming, as in the paper:
x > z_q is an alarm and changes nothing (not a peak, not counted in n); t < x <= z_q is a peak: n and N_t grow and
z_q is recomputed; x <= t only increments n. z_q therefore only moves when a peak arrives, which is what lets
``update`` skip every value below t in one vectorised comparison.

Refit policy (the cost of one root-finding per peak, and memory): the GPD is refitted on every ``refit_every``-th
new peak (default 1, the paper's rule) to the calibration peaks plus the most recent ``max_peaks`` stream peaks
(default 500; ``None`` keeps all, exactly the paper). N_t and n keep counting every peak and every non-alarm, so the
exceedance rate N_t/n is estimated on the whole history, as in libspot. Between refits z_q is still recomputed
with the new n and N_t. With the vectorised Grimshaw (``gpd.py``) a refit of ~900 peaks costs ~0.5 ms.

Why the calibration peaks are never dropped: alarms are left out of the peaks, so stream peaks are censored at z_q.
A fit on censored peaks only (a plain ring buffer, libspot's ``max_excess``) has a lighter tail, hence a lower z_q,
hence stronger censoring: on i.i.d. Exp(1) scores (q=1e-3, level 0.98) the alarm rate ran away from 1.2q to 10q
within 200k windows with a 500-peak ring buffer; with the calibration peaks kept it stayed at 1.0-2.6q.
The unbounded paper algorithm keeps them too, but their weight shrinks as stream peaks accumulate.

The runaway guard (a threshold must never go blind in silence). If the stream's scores settle between t and z_q,
every window is a peak: N_t/n climbs far above 1 - level, the refitted shape grows and z_q climbs above every score
(seen on held-out server data: N_t/n 0.35, shape 1.36, z_q from 101 to 32,023). Two guards:
- the fitted shape is bounded by ``max_shape`` (``gpd.grimshaw``), so a heavy-tailed refit alone cannot put z_q
  out of reach; the first refit that hits the bound is reported ("shape");
- the peak rate: when the last ``guard_peaks`` peaks came at more than ``max_peak_ratio`` x (1 - level) per window
  (under a stationary stream the rate is 1 - level; 50 peaks at 5x it is a p < 1e-18 event), normal has moved and
  the stream no longer looks like the calibration. The dense peaks are taken back out of the fit (N_t, n and the
  kept peaks as they were before the first of them), the GPD is refitted, and the fit is **held**: z_q stays, no
  peak enters the fit, n stops counting, alarms go on against the held z_q. It is released when the last
  ``guard_peaks`` peaks came at under ``RELEASE_PEAK_RATIO`` x (1 - level) per window. Each trip is reported once
  (``take_trips``) so the daemon can log it, count it, show it in /healthz and request a refresh (moving "normal"
  is the refresh's job, docs/thresholds.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, Self

import numpy as np

from pipelines import defaults as D
from pipelines.threshold import packing
from pipelines.threshold.gpd import grimshaw, tail_quantile
from pipelines.threshold.packing import newest
from pipelines.threshold.params import check_params
from pipelines.threshold.params import finite as _finite


class SPOT:
    """Streaming peaks-over-threshold: an alarm when a score exceeds the (1 - q) tail quantile z_q."""

    kind = "spot"
    # Memory (100k assets live at once): slots instead of a __dict__, and lists trimmed by hand instead of deques
    # (an empty deque is 760 bytes, an empty list 56), the same values in the same order.
    __slots__ = (
        "q",
        "level",
        "max_peaks",
        "refit_every",
        "min_peaks",
        "max_shape",
        "max_peak_ratio",
        "guard_peaks",
        "t",
        "gamma",
        "sigma",
        "z",
        "n",
        "n_peaks",
        "_since_refit",
        "_cal_peaks",
        "_peaks",
        "_clock",
        "_peak_clock",
        "guard",
        "_shape_bound",
        "_trips",
    )

    def __init__(
        self,
        q: float = D.Q,
        level: float = D.LEVEL,
        max_peaks: int | None = D.MAX_PEAKS,
        refit_every: int = D.REFIT_EVERY,
        min_peaks: int = D.MIN_PEAKS,
        max_shape: float = D.MAX_SHAPE,
        max_peak_ratio: float = D.MAX_PEAK_RATIO,
        guard_peaks: int = D.GUARD_PEAKS,
    ) -> None:
        check_params(q, level, refit_every, max_shape, max_peak_ratio)
        if max_peaks is not None and max_peaks < 0:
            raise ValueError(f"max_peaks must be None or >= 0, got {max_peaks}")
        if min_peaks < 2 or guard_peaks < 2:
            raise ValueError(f"min_peaks and guard_peaks must be >= 2, got {min_peaks}, {guard_peaks}")
        self.q, self.level, self.max_peaks = float(q), float(level), max_peaks
        self.refit_every, self.min_peaks = int(refit_every), int(min_peaks)
        self.max_shape, self.max_peak_ratio = float(max_shape), float(max_peak_ratio)
        self.guard_peaks = int(guard_peaks)
        self.t = self.gamma = self.sigma = self.z = math.nan
        self.n = self.n_peaks = self._since_refit = 0
        self._cal_peaks = np.empty(0)
        self._peaks: list[float] = []  # the newest max_peaks stream peaks
        self._clock = 0  # non-alarm windows seen, held or not (n stops while the fit is held)
        self._peak_clock: list[int] = []  # ``_clock`` at each of the last guard_peaks peaks
        self.guard = ""  # why the fit is held; "" while it is not
        self._shape_bound = False
        self._trips: list[tuple[str, str]] = []

    def params(self) -> dict[str, Any]:
        return {
            "q": self.q,
            "level": self.level,
            "max_peaks": self.max_peaks,
            "refit_every": self.refit_every,
            "min_peaks": self.min_peaks,
            "max_shape": self.max_shape,
            "max_peak_ratio": self.max_peak_ratio,
            "guard_peaks": self.guard_peaks,
        }

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        """Parameter sets the shared round-trip check builds this detector from (tests/pipelines/threshold/): the
        daemon's risk and level, and one away from every default that also holds its fit on the check's stream."""
        yield {"q": 1e-3, "level": 0.98}
        yield {
            "q": 5e-3,
            "level": 0.9,
            "max_peaks": 40,
            "refit_every": 3,
            "min_peaks": 5,
            "max_shape": 0.4,
            "max_peak_ratio": 3.0,
            "guard_peaks": 20,
        }

    @property
    def threshold(self) -> float:
        """The threshold the next score is compared with."""
        return self.z

    @property
    def peaks(self) -> np.ndarray:
        """The excesses the tail is fitted to: calibration peaks, then the kept stream peaks in arrival order."""
        return np.concatenate([self._cal_peaks, np.fromiter(self._peaks, np.float64, len(self._peaks))])

    def initialize(self, calibration: np.ndarray) -> None:
        self._calibrate(_finite(calibration, "calibration"))

    def _calibrate(self, x: np.ndarray) -> None:
        need = math.ceil(self.min_peaks / (1.0 - self.level))
        if x.size < need:
            raise ValueError(
                f"need at least {need} calibration scores (min_peaks={self.min_peaks} at "
                f"level={self.level}), got {x.size}"
            )
        t = float(np.quantile(x, self.level))
        peaks = x[x > t] - t
        if peaks.size < self.min_peaks:
            raise ValueError(
                f"calibration gives {peaks.size} peaks above t={t:.6g}, need at least "
                f"{self.min_peaks} (too many ties at the {self.level} quantile?)"
            )
        self.t, self.n, self.n_peaks, self._since_refit = t, int(x.size), int(peaks.size), 0
        self._clock = self.n
        self._cal_peaks = peaks
        self._peaks.clear()
        self._peak_clock.clear()
        self.guard, self._shape_bound = "", False
        self._refit()
        self._trips.clear()

    def _refit(self) -> None:
        self.gamma, self.sigma = grimshaw(self.peaks, self.max_shape)
        bound = self.gamma >= self.max_shape
        if bound and not self._shape_bound:
            self._trips.append(
                (
                    "shape",
                    f"GPD shape fitted at its bound {self.max_shape:g} (tail heavier than "
                    f"the bound allows; z_q = {self.z:.6g} before this refit)",
                )
            )
        self._shape_bound = bound
        self._since_refit = 0
        self._requantile()

    def _requantile(self) -> None:
        self.z = tail_quantile(self.t, self.gamma, self.sigma, self.q, self.n, self.n_peaks)

    def _add_peak(self, excess: float) -> None:
        """A new peak: n must already count it."""
        self._peaks.append(excess)
        if self.max_peaks is not None and len(self._peaks) > self.max_peaks:
            del self._peaks[0]
        self.n_peaks += 1
        self._since_refit += 1
        if self._since_refit >= self.refit_every:
            self._refit()
        else:
            self._requantile()

    def _peak(self, excess: float) -> None:
        """A score in (t, z_q]: a peak for the fit unless the fit is held; the guard's rate is checked on each.
        ``_clock`` (and n, when not held) must already count it."""
        self._peak_clock.append(self._clock)
        if len(self._peak_clock) > self.guard_peaks:
            del self._peak_clock[0]
        full = len(self._peak_clock) == self.guard_peaks
        rate = self.guard_peaks / (self._clock - self._peak_clock[0] + 1) if full else 0.0
        expected = 1.0 - self.level
        if self.guard:
            if full and rate < D.RELEASE_PEAK_RATIO * expected:
                self.guard = ""
                self._peak_clock.clear()
            return
        self._add_peak(excess)
        if full and rate > self.max_peak_ratio * expected:
            self._hold(rate)

    def _hold(self, rate: float) -> None:
        """Take the dense peaks back out of the fit and hold it (module docstring)."""
        z_before = self.z
        k = min(self.guard_peaks, len(self._peaks))
        for _ in range(k):
            self._peaks.pop()
        self.n_peaks -= self.guard_peaks
        self.n -= self._clock - self._peak_clock[0] + 1
        self._refit()
        self.guard = (
            f"peak rate {rate:.3g} per window over the last {self.guard_peaks} peaks, "
            f"{rate / (1.0 - self.level):.1f}x the {1.0 - self.level:.3g} expected: normal has moved; "
            f"fit held at z_q = {self.z:.6g} without those peaks (with them {z_before:.6g})"
        )
        self._trips.append(("peak_rate", self.guard))
        self._peak_clock.clear()

    def take_trips(self) -> list[tuple[str, str]]:
        """(kind, message) for each guard event since the last call: "peak_rate" (the fit is now held) or
        "shape" (a refit hit ``max_shape``)."""
        out, self._trips = self._trips, []
        return out

    def _check_ready(self) -> None:
        if math.isnan(self.z):
            raise RuntimeError(f"{type(self).__name__} is not initialised: call initialize(calibration) first")

    def step(self, x: float) -> tuple[bool, float]:
        """Process one score: (alarm, threshold that x was compared with)."""
        self._check_ready()
        x = float(x)
        if not math.isfinite(x):
            raise ValueError(f"score must be finite, got {x}")
        return self._step(x)

    def update(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``step`` over a sequence, same decisions and thresholds, vectorised where the state cannot change."""
        self._check_ready()
        return self._update(_finite(xs, "scores"))

    def _tick(self, k: int = 1) -> None:
        """k more non-alarm windows."""
        self._clock += k
        if not self.guard:
            self.n += k

    def _step(self, x: float) -> tuple[bool, float]:
        z = self.z
        if x > z:
            return True, z
        self._tick()
        if x > self.t:
            self._peak(x - self.t)
        return False, z

    def _update(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Only values above t can change the state, so only those are visited one by one."""
        alarms = np.zeros(xs.size, dtype=bool)
        thr = np.empty(xs.size, dtype=np.float64)
        counted, n_alarms, start = 0, 0, 0  # non-alarm windows of xs already ticked
        for i in np.flatnonzero(xs > self.t).tolist():
            thr[start : i + 1] = self.z
            start = i + 1
            x = float(xs[i])
            if x > self.z:
                alarms[i] = True
                n_alarms += 1
            else:
                k = i + 1 - n_alarms
                self._tick(k - counted)
                counted = k
                self._peak(x - self.t)
        thr[start:] = self.z
        self._tick(xs.size - n_alarms - counted)
        return alarms, thr

    def state(self) -> dict[str, Any]:
        """JSON-serialisable checkpoint; ``from_state`` continues with bit-identical decisions."""
        self._check_ready()
        return {
            "kind": self.kind,
            "params": self.params(),
            "t": self.t,
            "gamma": self.gamma,
            "sigma": self.sigma,
            "z": self.z,
            "n": self.n,
            "n_peaks": self.n_peaks,
            "since_refit": self._since_refit,
            "calibration_peaks": self._cal_peaks.tolist(),
            "peaks": list(self._peaks),
            "clock": self._clock,
            "peak_clock": list(self._peak_clock),
            "guard": self.guard,
            "shape_bound": self._shape_bound,
        }

    @classmethod
    def from_state(cls, d: dict[str, Any]) -> SPOT:
        """A state written before the runaway guard existed loads with the default guard, its history empty."""
        if d.get("kind") != cls.kind:
            raise ValueError(f"state is for {d.get('kind')!r}, not {cls.kind!r}")
        obj = cls(**cls._params_of(d["params"]))
        obj._load(d)
        return obj

    @classmethod
    def _params_of(cls, params: dict[str, Any]) -> dict[str, Any]:
        return dict(params)

    def _load(self, d: dict[str, Any]) -> None:
        self.t, self.gamma, self.sigma, self.z = (float(d[k]) for k in ("t", "gamma", "sigma", "z"))
        self.n, self.n_peaks, self._since_refit = int(d["n"]), int(d["n_peaks"]), int(d["since_refit"])
        self._cal_peaks = np.asarray(d["calibration_peaks"], dtype=np.float64)
        self._peaks = newest([float(p) for p in d["peaks"]], self.max_peaks)
        self._clock = int(d.get("clock", self.n))
        self._peak_clock = newest([int(c) for c in d.get("peak_clock", ())], self.guard_peaks)
        self.guard, self._shape_bound = str(d.get("guard", "")), bool(d.get("shape_bound", False))

    def to_array(self, shared_calibration: np.ndarray | None = None) -> np.ndarray:
        """The state as one float64 array, for an idle asset spilled in memory and for the checkpoint
        (``pipelines.threshold.packing``)."""
        return packing.pack(self, shared_calibration)

    @classmethod
    def from_array(cls, a: np.ndarray, params: dict[str, Any], shared_calibration: np.ndarray | None = None) -> Self:
        """Inverse of ``to_array`` (same decisions, bit for bit), with the bank's ``params``."""
        return packing.unpack(cls(**params), a, shared_calibration)

    def _extra(self) -> np.ndarray:
        return np.empty(0)

    def _load_extra(self, extra: np.ndarray) -> None:
        pass

    def clone(self) -> Self:
        """An independent copy (cheaper than a state round trip)."""
        obj = object.__new__(type(self))
        for cls in type(self).__mro__:
            for name in getattr(cls, "__slots__", ()):
                setattr(obj, name, getattr(self, name))
        obj._peaks = list(self._peaks)
        obj._peak_clock = list(self._peak_clock)
        obj._trips = []
        return obj
