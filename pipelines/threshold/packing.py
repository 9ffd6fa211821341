"""A detector's state as one float64 array (a few hundred bytes; integers below 2**53 are exact): what the bank keeps
for an idle asset and writes to the checkpoint. Layout: a header of ``HEAD`` values (t, gamma, sigma, z, n, n_peaks,
since_refit, clock, shape_bound, then the lengths of the peaks, the peak clock, the subclass's extra part and the
calibration peaks, -1 when they are the bank's shared ones), then those arrays in that order."""

from __future__ import annotations

from typing import Protocol, TypeVar

import numpy as np


class Packable(Protocol):
    """What a detector (``pipelines.threshold.spot.SPOT`` and its subclasses) holds that the array carries."""

    t: float
    gamma: float
    sigma: float
    z: float
    n: int
    n_peaks: int
    _since_refit: int
    _clock: int
    _shape_bound: bool
    _peaks: list[float]
    _peak_clock: list[int]
    _cal_peaks: np.ndarray
    guard: str
    max_peaks: int | None
    guard_peaks: int

    def _check_ready(self) -> None: ...

    def _extra(self) -> np.ndarray: ...

    def _load_extra(self, extra: np.ndarray) -> None: ...


D = TypeVar("D", bound=Packable)
_T = TypeVar("_T")
HEAD = 13


def pack(det: Packable, shared_calibration: np.ndarray | None = None) -> np.ndarray:
    """``det``'s state as one array. The calibration peaks are left out when they are ``shared_calibration`` (every
    asset started from the shared fit holds the same ones). Not for a held fit (``guard`` is text): ``state`` keeps
    those."""
    det._check_ready()
    if det.guard:
        raise ValueError("a held fit is not packed (its guard reason is text): use state()")
    shared = shared_calibration is not None and (
        det._cal_peaks is shared_calibration or np.array_equal(det._cal_peaks, shared_calibration)
    )
    extra = det._extra()
    cal = np.empty(0) if shared else det._cal_peaks
    head = [
        det.t,
        det.gamma,
        det.sigma,
        det.z,
        det.n,
        det.n_peaks,
        det._since_refit,
        det._clock,
        float(det._shape_bound),
        len(det._peaks),
        len(det._peak_clock),
        extra.size,
        -1.0 if shared else cal.size,
    ]
    return np.concatenate(
        [
            np.array(head, np.float64),
            np.fromiter(det._peaks, np.float64, len(det._peaks)),
            np.fromiter(det._peak_clock, np.float64, len(det._peak_clock)),
            extra,
            cal,
        ]
    )


def unpack(obj: D, a: np.ndarray, shared_calibration: np.ndarray | None = None) -> D:
    """Inverse of ``pack`` into ``obj``, a new detector made with the bank's params (same decisions, bit for bit)."""
    h = a[:HEAD]
    obj.t, obj.gamma, obj.sigma, obj.z = (float(v) for v in h[:4])
    obj.n, obj.n_peaks, obj._since_refit, obj._clock = (int(v) for v in h[4:8])
    obj._shape_bound = bool(h[8])
    n_peaks, n_clock, n_extra, n_cal = (int(v) for v in h[9:13])
    at = HEAD
    obj._peaks = newest(a[at : at + n_peaks].tolist(), obj.max_peaks)
    at += n_peaks
    obj._peak_clock = newest([int(v) for v in a[at : at + n_clock].tolist()], obj.guard_peaks)
    at += n_clock
    obj._load_extra(a[at : at + n_extra])
    at += n_extra
    if n_cal < 0:
        if shared_calibration is None:
            raise ValueError("this packed state shares the bank's calibration peaks; pass them")
        obj._cal_peaks = shared_calibration
    else:
        obj._cal_peaks = a[at : at + n_cal].copy()
    return obj


def newest(values: list[_T], maxlen: int | None) -> list[_T]:
    """The last ``maxlen`` values (all when None), as a deque(values, maxlen) would keep them."""
    return values if maxlen is None or len(values) <= maxlen else values[len(values) - maxlen :]
