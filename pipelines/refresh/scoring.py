"""Scores and thresholds of windows under a version: the current one (an ``OnlineModel``) or the rebuilt one held
in memory (``Rebuilt``), each window against its asset's reference where the version has one, else the global.

The threshold a reference gives is the one a fresh SPOT starts with on its calibration scores (risk ``q``, initial
level ``level``, the ``threshold`` section's); a per-asset reference with too few calibration scores for SPOT takes
the global reference's threshold, as the daemon's threshold bank does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from pipelines.online import OnlineModel
from pipelines.reference.assets import AssetNormal, score_against
from pipelines.reference.build import Reference
from pipelines.threshold.spot import SPOT

CHUNK = 65_536


@dataclass
class Rebuilt:
    """The refreshed references in memory: the global one, its calibration scores and the per-asset normals that
    were rebuilt (keys not in ``normals`` keep the current version's)."""

    reference: Reference
    calibration: np.ndarray
    normals: dict[str, AssetNormal] = field(default_factory=dict)
    reference_rows: int = 0
    calibration_rows: int = 0


def reference_keys(model: OnlineModel, assets: np.ndarray) -> np.ndarray:
    """object [n]: the per-asset reference key of each window, None for the global reference."""
    if model.assets is None:
        return np.full(len(assets), None, dtype=object)
    names, inverse = np.unique(np.asarray(assets).astype(str), return_inverse=True)
    keys = np.array([model.assets.key_of(str(a)) for a in names], dtype=object)
    return keys[inverse]


def score_current(model: OnlineModel, X: np.ndarray, assets: np.ndarray) -> np.ndarray:
    """float64 [n]: every window's score under the current version, CHUNK windows at a time."""
    out = np.empty(len(X), dtype=np.float64)
    a = np.asarray(assets).astype(str)
    for s in range(0, len(X), CHUNK):
        out[s : s + CHUNK] = model.score(X[s : s + CHUNK], list(a[s : s + CHUNK])).score
    return out


def score_rebuilt(model: OnlineModel, rebuilt: Rebuilt, X: np.ndarray, assets: np.ndarray) -> np.ndarray:
    """float64 [n]: every window's score under the rebuilt references (the current version's for keys that were
    not rebuilt)."""
    keys = reference_keys(model, assets)
    out = np.empty(len(X), dtype=np.float64)
    listed = keys.tolist()
    for key in set(listed):
        rows = np.flatnonzero(np.fromiter((k == key for k in listed), dtype=bool, count=len(listed)))
        for s in range(0, len(rows), CHUNK):
            r = rows[s : s + CHUNK]
            if key is None:
                out[r] = score_against(model.model, rebuilt.reference, model.scorer, X[r])
            elif key in rebuilt.normals:
                normal = rebuilt.normals[key]
                frozen = model.model if normal.scaler is None else model.model.with_scaler(normal.scaler)
                out[r] = score_against(frozen, normal.reference, model.scorer, X[r])
            else:
                out[r] = model.score(X[r], list(np.asarray(assets)[r].astype(str))).score
    return out


def level_threshold(calibration: np.ndarray, q: float, level: float) -> float:
    det = SPOT(q=q, level=level)
    det.initialize(np.asarray(calibration, dtype=np.float64))
    return float(det.threshold)


def calibrations(model: OnlineModel, rebuilt: Rebuilt | None, keys: set[str | None]) -> dict[str | None, np.ndarray]:
    """The calibration scores of each key's reference (None: the global) in the current or the rebuilt version."""
    own: Mapping[str, np.ndarray] = model.asset_calibration or {}
    out: dict[str | None, np.ndarray] = {None: model.calibration if rebuilt is None else rebuilt.calibration}
    for key in keys - {None}:
        if rebuilt is not None and key in rebuilt.normals:
            out[key] = rebuilt.normals[key].calibration
        else:
            out[key] = np.asarray(own[str(key)])
    return out


def thresholds(model: OnlineModel, rebuilt: Rebuilt | None, keys: np.ndarray, q: float, level: float) -> np.ndarray:
    """float64 [n]: the threshold each window is compared with (see the module docstring)."""
    cals = calibrations(model, rebuilt, set(keys.tolist()))
    base = level_threshold(cals[None], q, level)
    by_key: dict[str | None, float] = {None: base}
    for key, cal in cals.items():
        if key is not None:
            try:
                by_key[key] = level_threshold(cal, q, level)
            except ValueError:
                by_key[key] = base
    return np.array([by_key[k] for k in keys.tolist()], dtype=np.float64)


def quantile_limits(model: OnlineModel, keys: np.ndarray, quantile: float) -> np.ndarray:
    """float64 [n]: the ``quantile`` of each window's reference calibration scores under the current version."""
    cals = calibrations(model, None, set(keys.tolist()))
    by_key = {k: float(np.quantile(c, quantile)) for k, c in cals.items()}
    return np.array([by_key[k] for k in keys.tolist()], dtype=np.float64)


__all__ = ["Rebuilt", "reference_keys", "score_current", "score_rebuilt", "thresholds", "quantile_limits"]
