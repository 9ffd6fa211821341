"""One SPOT/DSPOT per asset, all started from the same calibration fit, driven in arrival order."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pipelines.threshold.dspot import DSPOT
from pipelines.threshold.spot import SPOT, _finite

METHODS: dict[str, type[SPOT]] = {"spot": SPOT, "dspot": DSPOT}
_SCALAR_MAX = 12  # below this many windows per asset in a batch, scalar steps beat the vectorised update


class ThresholdBank:
    """Per-asset thresholds. An asset seen for the first time starts from a copy of the shared calibration fit
    (made once in ``__init__``), so new assets cost no GPD fit."""

    def __init__(self, method: str, calibration: np.ndarray, **params: Any) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
        self.method = method
        self._proto = METHODS[method](**params)
        self._proto.initialize(calibration)
        self._detectors: dict[str, SPOT] = {}

    @property
    def assets(self) -> list[str]:
        return list(self._detectors)

    def detector(self, asset: str) -> SPOT:
        """The asset's detector, created from the calibration fit on first sight."""
        det = self._detectors.get(asset)
        if det is None:
            det = self._detectors[asset] = self._proto.clone()
        return det

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

    def state(self) -> dict[str, Any]:
        return {"method": self.method, "calibration": self._proto.state(),
                "assets": {a: d.state() for a, d in self._detectors.items()}}

    @classmethod
    def from_state(cls, d: dict[str, Any]) -> "ThresholdBank":
        obj = object.__new__(cls)
        obj.method = d["method"]
        if obj.method not in METHODS:
            raise ValueError(f"unknown method {obj.method!r} in state")
        kind = METHODS[obj.method]
        obj._proto = kind.from_state(d["calibration"])
        obj._detectors = {a: kind.from_state(s) for a, s in d["assets"].items()}
        return obj
