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
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from pipelines import defaults
from pipelines.threshold.dspot import DSPOT
from pipelines.threshold.spot import SPOT, _finite

METHODS: dict[str, type[SPOT]] = {"spot": SPOT, "dspot": DSPOT}
_SCALAR_MAX = 12  # below this many windows per asset in a batch, scalar steps beat the vectorised update
SHARED = "shared"
OWN = "own"


class ThresholdSettings(Protocol):
    """What ``from_settings`` reads (``latentwatch.config.ThresholdConfig`` has these fields)."""

    method: str
    q: float
    level: float
    depth: int
    refit_every: int
    max_shape: float
    max_peak_ratio: float


def needed_scores(method: str, level: float, min_peaks: int = defaults.MIN_PEAKS,
                  depth: int = defaults.DEPTH) -> int:
    """Calibration scores the fit needs: min_peaks above the level quantile (plus the moving window for DSPOT)."""
    return math.ceil(min_peaks / (1.0 - level)) + (depth if method == "dspot" else 0)


class ThresholdBank:
    """Per-asset thresholds; see the module docstring for where each asset's detector starts."""

    def __init__(self, method: str, calibration: np.ndarray,
                 asset_calibration: Mapping[str, np.ndarray] | None = None, **params: Any) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
        self.method = method
        self._proto = METHODS[method](**params)
        self._proto.initialize(calibration)
        self._detectors: dict[str, SPOT] = {}
        self._sources: dict[str, str] = {}
        self._asset_cal = _checked(asset_calibration)

    @classmethod
    def from_settings(cls, settings: ThresholdSettings, calibration: np.ndarray,
                      asset_calibration: Mapping[str, np.ndarray] | None = None) -> "ThresholdBank":
        """The bank the daemon runs, from the ``threshold`` config section."""
        params: dict[str, Any] = {"q": settings.q, "level": settings.level, "refit_every": settings.refit_every,
                                  "max_shape": settings.max_shape, "max_peak_ratio": settings.max_peak_ratio}
        if settings.method == "dspot":
            params["depth"] = settings.depth
        return cls(settings.method, calibration, asset_calibration, **params)

    @property
    def assets(self) -> list[str]:
        return list(self._detectors)

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
        return self._sources.get(asset, OWN if asset in self._asset_cal else SHARED)

    def detector(self, asset: str) -> SPOT:
        """The asset's detector, created on first sight (module docstring)."""
        det = self._detectors.get(asset)
        if det is None:
            det, self._sources[asset] = self._start(asset)
            self._detectors[asset] = det
        return det

    def _start(self, asset: str) -> tuple[SPOT, str]:
        own = self._asset_cal.get(asset)
        if own is None:
            return self._proto.clone(), SHARED
        p = self._proto
        need = needed_scores(self.method, p.level, p.min_peaks, getattr(p, "depth", 0))
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
        """
        scores = _finite(scores, "scores")
        if len(assets) != scores.size:
            raise ValueError(f"{len(assets)} assets for {scores.size} scores")
        groups: dict[str, list[int]] = {}
        for i, a in enumerate(assets):
            groups.setdefault(a, []).append(i)
        alarms = np.empty(scores.size, dtype=bool)
        thresholds = np.empty(scores.size, dtype=np.float64)
        values = scores.tolist()
        for asset, idx in groups.items():
            det = self.detector(asset)
            if len(idx) <= _SCALAR_MAX:
                for i in idx:
                    alarms[i], thresholds[i] = det._step(values[i])
            else:
                ix = np.asarray(idx)
                alarms[ix], thresholds[ix] = det._update(scores[ix])
        return alarms, thresholds

    def guarded(self) -> dict[str, str]:
        """Assets whose fit the runaway guard holds (``SPOT.guard``), with the reason."""
        return {a: d.guard for a, d in self._detectors.items() if d.guard}

    def take_guard_trips(self) -> list[tuple[str, str, str]]:
        """(asset, kind, message) for each guard event since the last call (``SPOT.take_trips``)."""
        return [(a, kind, msg) for a, d in self._detectors.items() for kind, msg in d.take_trips()]

    def state(self) -> dict[str, Any]:
        """JSON-serialisable. The per-asset calibration is not in it (it is the artifact's): pass it again to
        ``from_state`` so assets first seen after a restore still start from their own scores."""
        return {"method": self.method, "calibration": self._proto.state(),
                "assets": {a: d.state() for a, d in self._detectors.items()},
                "sources": dict(self._sources)}

    @classmethod
    def from_state(cls, d: dict[str, Any],
                   asset_calibration: Mapping[str, np.ndarray] | None = None) -> "ThresholdBank":
        """Inverse of ``state``. A state written before per-asset calibration existed has no "sources": every asset
        in it started from the shared fit."""
        obj = object.__new__(cls)
        obj.method = d["method"]
        if obj.method not in METHODS:
            raise ValueError(f"unknown method {obj.method!r} in state")
        kind = METHODS[obj.method]
        obj._proto = kind.from_state(d["calibration"])
        obj._detectors = {a: kind.from_state(s) for a, s in d["assets"].items()}
        obj._sources = {a: d.get("sources", {}).get(a, SHARED) for a in obj._detectors}
        obj._asset_cal = _checked(asset_calibration)
        return obj


def _checked(asset_calibration: Mapping[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    """Validated up front, so a bad array is an error at start, not in the middle of a batch."""
    out = {}
    for asset, scores in (asset_calibration or {}).items():
        out[str(asset)] = _finite(scores, f"calibration scores of asset {asset!r}")
    return out
