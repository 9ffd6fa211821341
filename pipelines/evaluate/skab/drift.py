"""Channels that drift through the normal span, found without labels, and kept out of the score.

A slow channel (a temperature warming up) that trends through a file's 400 normal rows keeps trending afterwards,
so its level features (window mean, min, max; every value in flatten mode) leave the normal span while the rig is
healthy. The rule: a channel drifts when a straight line fitted to its normal rows moves by more than ``tau``
standard deviations of the residual over the span. Its level features get a scale so wide that their scaled value
is ~0 whatever they read (the scaler travels in the artifact, so the daemon scores exactly the same features);
its spread and delta features stay.
"""

from __future__ import annotations

import numpy as np

from pipelines.data.windowing import SUMMARY_STATS
from pipelines.model.scaler import Scaler

LEVEL_STATS = ("mean", "min", "max")
IGNORED_SCALE = 1e12


def channel_trend(values: np.ndarray) -> np.ndarray:
    """float64 [c]: |slope| * rows / residual std of each channel of values [rows, c]."""
    v = np.asarray(values, dtype=np.float64)
    t = np.arange(len(v), dtype=np.float64)
    A = np.c_[t, np.ones_like(t)]
    coef, *_ = np.linalg.lstsq(A, v, rcond=None)
    resid = v - A @ coef
    out: np.ndarray = np.abs(coef[0]) * len(v) / np.maximum(resid.std(axis=0), 1e-12)
    return out


def channel_slowness(values: np.ndarray) -> np.ndarray:
    """float64 [c]: std of the row-to-row change over the std of the channel (white noise ~1.41, a smooth trend ~0)."""
    v = np.asarray(values, dtype=np.float64)
    out: np.ndarray = np.diff(v, axis=0).std(axis=0) / np.maximum(v.std(axis=0), 1e-12)
    return out


def level_features(channels: np.ndarray, n_channels: int, length: int, mode: str) -> np.ndarray:
    """Indices of the window-vector features that read the level of the given channels."""
    channels = np.asarray(channels, dtype=np.int64)
    if mode == "summary":
        stats = [SUMMARY_STATS.index(s) for s in LEVEL_STATS]
        return np.array([c * len(SUMMARY_STATS) + s for c in channels for s in stats], dtype=np.int64)
    return np.array([k * n_channels + c for k in range(length) for c in channels], dtype=np.int64)


def drift_guard(scaler: Scaler, features: np.ndarray) -> Scaler:
    """The scaler with the given features ignored (scaled to ~0)."""
    scale = scaler.scale.copy()
    scale[np.asarray(features, dtype=np.int64)] = IGNORED_SCALE
    return Scaler(center=scaler.center, scale=scale, clip=scaler.clip)
