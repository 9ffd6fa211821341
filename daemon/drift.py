"""Drift on each asset's reconstruction-error stream: one river detector per asset (ADWIN by default, or
Page-Hinkley), fed the windows that neither alarmed nor passed their threshold (an alarm is the threshold's
business; drift is "normal moved", which is the refresh's).

The detector sees the log of the plain reconstruction error (``ScoredBatch.recon_error``, the same whatever the
scorer): a change is then relative, so one setting fits assets whose error levels differ by orders of magnitude, and
one spike weighs little. Levels are reported in error units (geometric means).

Bounded: at most ``max_assets`` assets are tracked (the least recently seen is dropped first); each holds its
detector (ADWIN keeps ``max_buckets`` buckets per power of two of its window: O(log n)) and a ring of its last
``HISTORY`` windows (event time, log error), 4 KB. Not checkpointed: a restart or a new model version starts
every detector afresh (``min_windows`` again), so a version whose scaler moved an asset's error level is never
taken for a drift of the asset.
"""

from __future__ import annotations

import math
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from river import drift as river_drift

from daemon.config.drift import DriftConfig

HISTORY = 256  # windows per asset kept to place the start of a change and its new level
MIN_AFTER = 8  # windows of the new level at least, when placing where a change began
TINY = 1e-12  # an error of exactly 0 (a constant window) is logged as this


@dataclass(frozen=True)
class Drift:
    """One detected drift: error levels before and after the change, the event time (epoch s) of the first window
    of the new level (``since``) and of the window that revealed it (``at``)."""

    asset: str
    detector: str
    before: float
    after: float
    since: float
    at: float


def make_detector(cfg: DriftConfig) -> Any:
    if cfg.detector == "adwin":
        adwin: Any = river_drift.ADWIN  # its __init__ is unannotated
        return adwin(delta=cfg.adwin_delta)
    return river_drift.PageHinkley(delta=cfg.ph_delta, threshold=cfg.ph_threshold, alpha=cfg.ph_alpha)


class _Track:
    """One asset: its detector, the windows fed since it started or last drifted (``n``, ``total`` of their log
    errors) and the ring of the last HISTORY windows (``pos``: windows ever written; typed arrays, 2 KB each)."""

    __slots__ = ("detector", "n", "total", "ts", "y", "pos", "seen", "last_drift")

    def __init__(self, detector: Any) -> None:
        self.detector = detector
        self.n, self.total, self.pos, self.seen = 0, 0.0, 0, 0
        self.ts = array("d", bytes(8 * HISTORY))
        self.y = array("d", bytes(8 * HISTORY))
        self.last_drift: float | None = None

    def last(self, n: int) -> np.ndarray:
        """Ring indices of the last ``n`` windows (n <= HISTORY), oldest first."""
        return np.arange(self.pos - n, self.pos) % HISTORY


class DriftDetectors:
    def __init__(self, cfg: DriftConfig) -> None:
        self.cfg = cfg
        self.tracks: OrderedDict[str, _Track] = OrderedDict()

    def reset(self) -> None:
        self.tracks.clear()

    def observe(self, assets: Sequence[str], ts_s: np.ndarray, error: np.ndarray) -> list[Drift]:
        """Feed windows (already without alarms), in consumption order; the drifts they reveal. One pass in plain
        Python: river's detectors take one value per call, and a per-asset numpy step would cost more than it saves
        when a batch holds many assets."""
        ys = np.log(np.maximum(np.asarray(error, dtype=np.float64), TINY)).tolist()
        every, found = self.cfg.every, []
        seen: dict[str, _Track] = {}  # the LRU order moves once per asset and batch, not per window
        current: str | None = None
        track = None
        for a, t, v in zip(assets, np.asarray(ts_s, dtype=np.float64).tolist(), ys, strict=True):
            if a != current or track is None:
                current, track = a, seen.get(a)
                if track is None:
                    track = seen[a] = self._track(a)
            if every > 1:
                track.seen += 1
                if track.seen % every:
                    continue
            detector = track.detector
            detector.update(v)
            slot = track.pos % HISTORY
            track.ts[slot] = t
            track.y[slot] = v
            track.pos += 1
            track.n += 1
            track.total += v
            if detector.drift_detected and self._may_fire(track, t):
                found.append(self._fire(a, track, t))
        return found

    def _track(self, asset: str) -> _Track:
        track = self.tracks.get(asset)
        if track is None:
            track = self.tracks[asset] = _Track(make_detector(self.cfg))
            while len(self.tracks) > self.cfg.max_assets:
                self.tracks.popitem(last=False)
        else:
            self.tracks.move_to_end(asset)
        return track

    def _may_fire(self, track: _Track, t: float) -> bool:
        cooled = track.last_drift is None or t - track.last_drift >= self.cfg.cooldown_s
        return track.n >= self.cfg.min_windows and cooled

    def _fire(self, asset: str, track: _Track, t: float) -> Drift:
        """Where the change began: the split of the asset's windows since it started (or last drifted), the last
        HISTORY of them one by one, that best separates two levels (binary segmentation's statistic, |difference
        of means| weighted by sqrt(n1 n2 / n)); the track's count starts again from the new level's windows."""
        m = min(track.n, HISTORY)
        ring = track.last(m)
        y = np.frombuffer(track.y)[ring]
        older_n, older = track.n - m, track.total - float(y.sum())
        k = np.arange(0 if older_n else 1, max(1, m - MIN_AFTER) + 1)
        cum = np.concatenate([[0.0], np.cumsum(y)])
        n1, n2 = older_n + k, m - k
        s1, s2 = older + cum[k], cum[m] - cum[k]
        stat = np.abs(s1 / n1 - s2 / np.maximum(n2, 1)) * np.sqrt(n1 * n2 / track.n)
        best = int(k[int(np.argmax(stat))])
        before, after = (older + cum[best]) / (older_n + best), (cum[m] - cum[best]) / (m - best)
        track.n, track.total, track.last_drift = m - best, float(cum[m] - cum[best]), t
        since = track.ts[int(ring[best])]
        return Drift(asset, self.cfg.detector, math.exp(before), math.exp(after), since, t)
