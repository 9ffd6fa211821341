"""One SPOT/DSPOT per asset, driven in arrival order; each starts from its asset's own calibration when it has one.

Start of an asset's detector, on its first window:
- the asset has calibration scores of its own (``asset_calibration``, e.g. scores of its normal windows against its
  own reference) and they are enough for the fit: SPOT/DSPOT is fitted on them (``source`` "own");
- it has some, but fewer than the fit needs (``needed_scores``: ceil(min_peaks / (1 - level)), 500 at level 0.98,
  plus ``depth`` for DSPOT), or they give too few peaks above t (ties): the **shared fit** (a copy of the fit on
  the shared calibration), ``source`` "shared (own: 320 scores, need 510)" says why. Not an error: a short normal
  span must not stop the daemon, and the shared fit is what an asset without any calibration gets too;
- it has none: the shared fit (``source`` "shared").
The shared fit is made once in ``__init__``; own fits are made lazily on first sight, so 10,000 listed assets cost
nothing until they send.

Memory: a live detector is a slotted Python object of about 0.7 kB (1.1 kB per asset with the bank's maps, was
3.2 kB with deques and an attribute dict; ``latentwatch bench state``); ``spill`` packs every
detector not used since the previous call into one float64 array of a few hundred bytes (``SPOT.to_array``, the
shared calibration peaks left out), unpacked on its next window with bit-identical decisions. The daemon spills at
each checkpoint, so only assets active within a checkpoint interval stay live. ``state`` packs the same way, so a
checkpoint holds numpy arrays, not a JSON dict per asset, and a restored bank unpacks an asset only when it sends.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from pipelines import defaults
from pipelines.threshold.dspot import DSPOT
from pipelines.threshold.params import finite as _finite
from pipelines.threshold.spot import SPOT

METHODS: dict[str, type[SPOT]] = {"spot": SPOT, "dspot": DSPOT}
SHARED = "shared"
OWN = "own"


class ThresholdSettings(Protocol):
    """What ``from_settings`` reads (``daemon.config.ThresholdConfig``, a frozen dataclass, has these fields)."""

    @property
    def method(self) -> str: ...

    @property
    def q(self) -> float: ...

    @property
    def level(self) -> float: ...

    @property
    def depth(self) -> int: ...

    @property
    def refit_every(self) -> int: ...

    @property
    def max_shape(self) -> float: ...

    @property
    def max_peak_ratio(self) -> float: ...


def needed_scores(method: str, level: float, min_peaks: int = defaults.MIN_PEAKS, depth: int = defaults.DEPTH) -> int:
    """Calibration scores the fit needs: min_peaks above the level quantile (plus the moving window for DSPOT)."""
    return math.ceil(min_peaks / (1.0 - level)) + (depth if method == "dspot" else 0)


class ThresholdBank:
    """Per-asset thresholds; see the module docstring for where each asset's detector starts."""

    def __init__(
        self,
        method: str,
        calibration: np.ndarray,
        asset_calibration: Mapping[str, np.ndarray] | None = None,
        **params: Any,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
        self.method = method
        self._proto = METHODS[method](**params)
        self._proto.initialize(calibration)
        self._detectors: dict[str, SPOT] = {}
        self._packed: dict[str, np.ndarray] = {}  # spilled detectors (``spill``)
        self._touched: set[str] = set()
        self._sources: dict[str, str] = {}
        self._asset_cal = _checked(asset_calibration)
        self._cal_of: Mapping[str, np.ndarray] = asset_calibration or {}
        self._member_cal: dict[str, np.ndarray] = {}
        self.last_n_peaks = np.empty(0, dtype=np.int64)
        self._last_seen: dict[str, float] = {}  # event time of each asset's newest window (``expire``)

    @classmethod
    def from_settings(
        cls,
        settings: ThresholdSettings,
        calibration: np.ndarray,
        asset_calibration: Mapping[str, np.ndarray] | None = None,
    ) -> ThresholdBank:
        """The bank the daemon runs, from the ``threshold`` config section."""
        params: dict[str, Any] = {
            "q": settings.q,
            "level": settings.level,
            "refit_every": settings.refit_every,
            "max_shape": settings.max_shape,
            "max_peak_ratio": settings.max_peak_ratio,
        }
        if settings.method == "dspot":
            params["depth"] = settings.depth
        return cls(settings.method, calibration, asset_calibration, **params)

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        """Method and detector parameters for the shared round-trip check; it passes the calibrations itself."""
        for method, kind in sorted(METHODS.items()):
            for params in kind._unit_test_params():
                yield {"method": method, **params}

    @property
    def assets(self) -> list[str]:
        return [*self._detectors, *self._packed]

    @property
    def live(self) -> int:
        """Detectors held as objects (the rest are packed, ``spill``)."""
        return len(self._detectors)

    @property
    def calibration_shape(self) -> float:
        """The GPD shape of the shared calibration fit (at most ``max_shape``)."""
        return self._proto.gamma

    @property
    def calibration_peaks(self) -> np.ndarray:
        """The shared calibration's excesses over t (what ``calibration_shape`` was fitted to)."""
        return self._proto.peaks

    @property
    def calibrated_assets(self) -> list[str]:
        """Assets that have calibration scores of their own (whether or not they were enough)."""
        return list(self._asset_cal)

    def source(self, asset: str) -> str:
        """Where the asset's detector started: "own", "shared", or "shared (own: ..., need ...)"."""
        return self._sources.get(asset, OWN if self._own(asset) is not None else SHARED)

    def detector(self, asset: str) -> SPOT:
        """The asset's detector, created on first sight (module docstring)."""
        det = self._detectors.get(asset)
        if det is None:
            packed = self._packed.pop(asset, None)
            if packed is not None:
                det = type(self._proto).from_array(packed, self._proto.params(), self._proto._cal_peaks)
            else:
                det, self._sources[asset] = self._start(asset)
            self._detectors[asset] = det
        self._touched.add(asset)
        return det

    def describe(self, asset: str, n_peaks: int | None = None) -> dict[str, Any]:
        """The threshold part of the asset's alert, less its value: method, q, level, n_peaks (``n_peaks`` when
        given, the window's own from ``last_n_peaks``; else the detector's count now) and, for DSPOT, depth."""
        det = self.detector(asset)
        out: dict[str, Any] = {
            "method": self.method,
            "q": det.q,
            "level": det.level,
            "n_peaks": det.n_peaks if n_peaks is None else int(n_peaks),
        }
        if isinstance(det, DSPOT):
            out["depth"] = det.depth
        return out

    def expire(self, assets: Sequence[str], ts_s: np.ndarray, idle_s: float) -> list[str]:
        """Before ``process``: an asset whose window comes more than ``idle_s`` (event time) after its previous one
        is dropped and restarts from its calibration; returns those assets. Decided by the asset's own times, so
        the same stream expires the same assets however it is batched or restarted."""
        out = [assets[i] for i in self.idle_cuts(assets, ts_s, idle_s)]
        for a in out:
            self.restart(a)
        return out

    def idle_cuts(self, assets: Sequence[str], ts_s: np.ndarray, idle_s: float) -> list[int]:
        """Record each window's time as its asset's last seen, and return the positions whose window comes more
        than ``idle_s`` after its asset's previous one: where the asset must ``restart``. A caller that decides
        the windows before each cut first, then restarts, restarts the asset exactly between its two windows,
        however the stream was cut into batches (``expire`` restarts before the whole batch)."""
        cuts: list[int] = []
        seen = self._last_seen
        for i, (a, t) in enumerate(zip(assets, ts_s.tolist(), strict=True)):
            last = seen.get(a)
            if last is not None and t - last > idle_s:
                cuts.append(i)
                last = None
            if last is None or t > last:
                seen[a] = t
        return cuts

    def restart(self, asset: str) -> None:
        """Forget the asset's detector: its next window starts it afresh from its calibration."""
        self._drop(asset)

    def _drop(self, asset: str) -> None:
        self._detectors.pop(asset, None)
        self._packed.pop(asset, None)
        self._sources.pop(asset, None)
        self._touched.discard(asset)

    def spill(self) -> int:
        """Pack the detectors not used since the last call (module docstring); how many were packed."""
        idle = [a for a in self._detectors if a not in self._touched]
        self._touched = set()
        n = 0
        for a in idle:
            packed = self._pack(self._detectors[a])
            if packed is not None:
                self._packed[a] = packed
                del self._detectors[a]
                n += 1
        return n

    def _pack(self, det: SPOT) -> np.ndarray | None:
        """None for what only ``state`` can hold: a held fit (its reason is text), untaken guard events, other
        parameters than the bank's (never made by the bank itself)."""
        if det.guard or det._trips or det.params() != self._proto.params():
            return None
        return det.to_array(self._proto._cal_peaks)

    def _own(self, asset: str) -> np.ndarray | None:
        """The asset's own calibration scores: by its name, or through the mapping (a group's, under a key
        pattern, ``pipelines.reference.fleet.Calibrations``)."""
        own = self._asset_cal.get(asset)
        if own is None:
            own = self._member_cal.get(asset)
        if own is None and asset in self._cal_of:
            own = self._member_cal[asset] = _finite(self._cal_of[asset], f"calibration scores of asset {asset!r}")
        return own

    def _start(self, asset: str) -> tuple[SPOT, str]:
        own = self._own(asset)
        if own is None:
            return self._proto.clone(), SHARED
        p = self._proto
        need = needed_scores(self.method, p.level, p.min_peaks, p.depth if isinstance(p, DSPOT) else 0)
        if own.size < need:
            return p.clone(), f"{SHARED} (own: {own.size} scores, need {need})"
        det = type(p)(**p.params())
        try:
            det.initialize(own)
        except ValueError as e:  # too few peaks above t (ties): same fallback, with the fit's reason
            return p.clone(), f"{SHARED} (own: {e})"
        return det, OWN

    def process(self, assets: Sequence[str], scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(alarms, thresholds) for windows in arrival order; each asset sees its own scores in order.

        The whole batch is validated before any state changes, so a bad score leaves the bank untouched.
        ``last_n_peaks`` then holds, per window, the peak count its threshold was computed from: what an alert
        reports, the same however the stream was cut into batches (the count after the batch is not). One scalar
        step per window: the vectorised ``update`` cannot say that, and it won only above 12 windows per asset in a
        batch, by microseconds.
        """
        scores = _finite(scores, "scores")
        if len(assets) != scores.size:
            raise ValueError(f"{len(assets)} assets for {scores.size} scores")
        groups: dict[str, list[int]] = {}
        for i, a in enumerate(assets):
            groups.setdefault(a, []).append(i)
        alarms = np.empty(scores.size, dtype=bool)
        thresholds = np.empty(scores.size, dtype=np.float64)
        n_peaks = np.empty(scores.size, dtype=np.int64)
        values = scores.tolist()
        for asset, idx in groups.items():
            det = self.detector(asset)
            for i in idx:
                n_peaks[i] = det.n_peaks
                alarms[i], thresholds[i] = det._step(values[i])
        self.last_n_peaks = n_peaks
        return alarms, thresholds

    def guarded(self) -> dict[str, str]:
        """Assets whose fit the runaway guard holds (``SPOT.guard``), with the reason."""
        return {a: d.guard for a, d in self._detectors.items() if d.guard}

    def take_guard_trips(self) -> list[tuple[str, str, str]]:
        """(asset, kind, message) for each guard event since the last call (``SPOT.take_trips``)."""
        return [(a, kind, msg) for a, d in self._detectors.items() for kind, msg in d.take_trips()]

    def state(self) -> dict[str, Any]:
        """JSON-serialisable, a dict per asset (spilled ones unpacked). The per-asset calibration is not in it (it
        is the artifact's): pass it again to ``from_state`` so assets first seen after a restore still start from
        their own scores. The checkpoint takes ``compact_state``."""
        kind, params, cal = type(self._proto), self._proto.params(), self._proto._cal_peaks
        assets = {a: d.state() for a, d in self._detectors.items()}
        assets.update((a, kind.from_array(x, params, cal).state()) for a, x in self._packed.items())
        return {
            "method": self.method,
            "calibration": self._proto.state(),
            "assets": assets,
            "sources": dict(self._sources),
        }

    def compact_state(self) -> dict[str, Any]:
        """``state`` with every detector ``_pack`` can pack as numpy arrays under "packed" (names, offsets into one
        float64 array; ``daemon.checkpoint`` stores arrays as arrays), the others as dicts under "assets"; only
        the sources that are not "shared". ``from_state`` takes both."""
        names, arrays, assets = [], [], {}
        for a, det in self._detectors.items():
            packed = self._pack(det)
            if packed is None:
                assets[a] = det.state()
            else:
                names.append(a)
                arrays.append(packed)
        names += self._packed
        arrays += self._packed.values()
        offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
        np.cumsum([x.size for x in arrays], out=offsets[1:])
        data = np.concatenate(arrays) if arrays else np.empty(0)
        sources = {a: src for a, src in self._sources.items() if src != SHARED}
        return {
            "method": self.method,
            "calibration": self._proto.state(),
            "assets": assets,
            "sources": sources,
            "packed": {"names": names, "offsets": offsets, "data": data},
            "last_seen": {
                "names": list(self._last_seen),
                "ts": np.fromiter(self._last_seen.values(), np.float64, len(self._last_seen)),
            },
        }

    @classmethod
    def from_state(cls, d: dict[str, Any], asset_calibration: Mapping[str, np.ndarray] | None = None) -> ThresholdBank:
        """Inverse of ``state``; also loads the older all-JSON state (no "packed"), and one written before per-asset
        calibration existed (no "sources": every asset in it started from the shared fit)."""
        obj = object.__new__(cls)
        obj.method = d["method"]
        if obj.method not in METHODS:
            raise ValueError(f"unknown method {obj.method!r} in state")
        kind = METHODS[obj.method]
        obj._proto = kind.from_state(d["calibration"])
        obj._detectors = {a: kind.from_state(s) for a, s in d["assets"].items()}
        packed = d.get("packed") or {"names": [], "offsets": [0], "data": []}
        offsets, data = np.asarray(packed["offsets"], np.int64), np.asarray(packed["data"], np.float64)
        names = packed["names"]
        if len(offsets) != len(names) + 1 or (len(names) and offsets[-1] != data.size):
            raise ValueError(f"packed thresholds: {len(names)} assets, {len(offsets)} offsets, {data.size} values")
        bounds = offsets.tolist()
        obj._packed = {a: data[bounds[i] : bounds[i + 1]] for i, a in enumerate(names)}
        obj._touched = set()
        sources = d.get("sources", {})
        obj._sources = {a: sources.get(a, SHARED) for a in [*obj._detectors, *obj._packed]}
        obj._asset_cal = _checked(asset_calibration)
        obj._cal_of = asset_calibration or {}
        obj._member_cal = {}
        obj.last_n_peaks = np.empty(0, dtype=np.int64)
        seen = d.get("last_seen") or {"names": [], "ts": []}
        obj._last_seen = dict(zip(seen["names"], np.asarray(seen["ts"], np.float64).tolist(), strict=True))
        return obj


def _checked(asset_calibration: Mapping[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    """Validated up front, so a bad array is an error at start, not in the middle of a batch."""
    out = {}
    for asset, scores in (asset_calibration or {}).items():
        out[str(asset)] = _finite(scores, f"calibration scores of asset {asset!r}")
    return out
