"""Drift on each asset's reconstruction-error stream: one river detector per asset (ADWIN by default, or
Page-Hinkley), fed the windows that neither alarmed nor passed their threshold (an alarm is the threshold's
business; drift is "normal moved", which is the refresh's).

The detector sees the log of the plain reconstruction error (``ScoredBatch.recon_error``, the same whatever the
scorer): a change is then relative, so one setting fits assets whose error levels differ by orders of magnitude, and
one spike weighs little. Levels are reported in error units (geometric means).

Bounded: at most ``max_assets`` assets are tracked (the least recently seen is dropped first); each holds its
detector (ADWIN keeps ``max_buckets`` buckets per power of two of its window: O(log n)) and a ring of its last
``HISTORY`` windows (event time, log error), about 4 KB. Not checkpointed: a restart or a new model version starts
every detector afresh (``min_windows`` again), so a version whose scaler moved an asset's error level is never
taken for a drift of the asset.
"""

from __future__ import annotations

import math
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
    errors) and the ring of the last HISTORY windows (``pos``: windows ever written)."""

    __slots__ = ("detector", "n", "total", "ts", "y", "pos", "seen", "last_drift")

    def __init__(self, detector: Any) -> None:
        self.detector = detector
        self.n, self.total, self.pos, self.seen = 0, 0.0, 0, 0
        self.ts = np.zeros(HISTORY)
        self.y = np.zeros(HISTORY)
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
        """Feed windows (already without alarms), in consumption order; the drifts they reveal."""
        rows: dict[str, list[int]] = {}
        for i, a in enumerate(assets):
            rows.setdefault(a, []).append(i)
        y = np.log(np.maximum(np.asarray(error, dtype=np.float64), TINY))
        found: list[Drift] = []
        for asset, idx in rows.items():
            track = self._track(asset)
            take = np.asarray(idx)
            if self.cfg.every > 1:
                first = -track.seen % self.cfg.every
                track.seen += len(take)
                take = take[first :: self.cfg.every]
            for t, v in zip(ts_s[take].tolist(), y[take].tolist(), strict=True):
                track.detector.update(v)
                slot = track.pos % HISTORY
                track.ts[slot], track.y[slot] = t, v
                track.pos += 1
                track.n += 1
                track.total += v
                if track.detector.drift_detected and self._may_fire(track, t):
                    found.append(self._fire(asset, track, t))
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
        y = track.y[ring]
        older_n, older = track.n - m, track.total - float(y.sum())
        k = np.arange(0 if older_n else 1, max(1, m - MIN_AFTER) + 1)
        cum = np.concatenate([[0.0], np.cumsum(y)])
        n1, n2 = older_n + k, m - k
        s1, s2 = older + cum[k], cum[m] - cum[k]
        stat = np.abs(s1 / n1 - s2 / np.maximum(n2, 1)) * np.sqrt(n1 * n2 / track.n)
        best = int(k[int(np.argmax(stat))])
        before, after = (older + cum[best]) / (older_n + best), (cum[m] - cum[best]) / (m - best)
        track.n, track.total, track.last_drift = m - best, float(cum[m] - cum[best]), t
        since = float(track.ts[ring[best]])
        return Drift(asset, self.cfg.detector, math.exp(before), math.exp(after), since, t)
