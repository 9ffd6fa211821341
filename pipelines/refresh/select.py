"""Which recent windows may become the new normal: the refresh's selection (ARES Table 4: an anomaly taken into the
reference makes its like score as normal, so the selection errs on leaving windows out).

A window is left out, in this order of reasons (each window is counted under the first that applies):
- ``before_since``: its asset has a drift request with a ``since`` time and the window is older (the asset's new
  normal starts there);
- ``alarmed``: the daemon alarmed on it (an open/update alert with its asset and ts) or it lies inside one of its
  asset's episodes (opened_ts .. the close's last_ts; an episode not closed in the range runs to the range's end);
- ``above_quantile``: its score under the current version is above ``exclude_quantile`` of the calibration scores
  of the reference it was scored against;
- ``over_cap``: the cap ``max_windows`` is met by a seeded sample with a quota per asset (every asset keeps
  ``min(its windows, quota)``; the quota is the largest that fits, what a small asset leaves over goes to the rest,
  and the few places the quota's rounding leaves are drawn from all the windows left over).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

REASONS = ("before_since", "alarmed", "above_quantile", "over_cap")


@dataclass
class AlarmRanges:
    """Per asset: the ts_ms of windows that alarmed, and the [start, end] ts_ms spans of its episodes."""

    points: dict[str, set[int]] = field(default_factory=dict)
    spans: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    @property
    def alerts(self) -> int:
        return sum(len(v) for v in self.points.values())


def alarm_ranges(alerts: Iterable[Mapping[str, Any]], end_ms: int) -> AlarmRanges:
    """The alarmed windows and episode spans of alert documents (``daemon/wire/alert.py``); an alert without an
    asset or episode is skipped, an episode still open at the end runs to ``end_ms``."""
    out = AlarmRanges()
    opened: dict[tuple[str, str], int] = {}
    closed: dict[tuple[str, str], int] = {}
    for doc in alerts:
        asset, ep = doc.get("asset"), doc.get("episode")
        if not isinstance(asset, str) or not isinstance(ep, Mapping):
            continue
        key = (asset, str(ep.get("episode_id")))
        start = int(round(float(ep.get("opened_ts", 0)) * 1000))
        opened[key] = min(opened.get(key, start), start)
        if ep.get("event") == "close":
            closed[key] = int(round(float(ep.get("last_ts", start / 1000)) * 1000))
        elif doc.get("ts_ms") is not None:
            out.points.setdefault(asset, set()).add(int(doc["ts_ms"]))
    for key, start in opened.items():
        out.spans.setdefault(key[0], []).append((start, closed.get(key, end_ms)))
    return out


def alarmed_mask(asset: np.ndarray, ts_ms: np.ndarray, ranges: AlarmRanges) -> np.ndarray:
    """bool [n]: the window alarmed or lies inside an episode of its asset."""
    out = np.zeros(len(asset), dtype=bool)
    for name in set(ranges.points) | set(ranges.spans):
        rows = np.flatnonzero(asset == name)
        if not len(rows):
            continue
        t = ts_ms[rows]
        hit = np.isin(t, np.fromiter(ranges.points.get(name, ()), np.int64))
        for start, end in ranges.spans.get(name, ()):
            hit |= (t >= start) & (t <= end)
        out[rows] = hit
    return out


def before_since(asset: np.ndarray, ts_ms: np.ndarray, since: Mapping[str, int]) -> np.ndarray:
    """bool [n]: the window is older than its asset's ``since`` (ts_ms)."""
    out = np.zeros(len(asset), dtype=bool)
    for name, t in since.items():
        out |= (asset == name) & (ts_ms < int(t))
    return out


def quota(sizes: np.ndarray, cap: int) -> int:
    """The largest per-asset quota q with sum(min(sizes, q)) <= cap (every asset keeps at least one window when
    there are no more assets than the cap)."""
    sizes = np.sort(np.asarray(sizes, dtype=np.int64))
    if sizes.sum() <= cap:
        return int(sizes.max()) if len(sizes) else 0
    lo, hi = 0, int(sizes.max())
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if int(np.minimum(sizes, mid).sum()) <= cap:
            lo = mid
        else:
            hi = mid - 1
    return lo


def quota_sample(asset: np.ndarray, cap: int, seed: int) -> np.ndarray:
    """Sorted row indices: ``min(cap, n)`` rows, each asset's ``min(its rows, quota)`` drawn at random (seeded)
    and the rest of the cap at random from the others; the time order of the rows kept."""
    if cap < 1:
        raise ValueError(f"max_windows must be >= 1, got {cap}")
    if len(asset) <= cap:
        return np.arange(len(asset))
    names, inverse, sizes = np.unique(asset, return_inverse=True, return_counts=True)
    q = quota(sizes, cap)
    rng = np.random.default_rng(seed)
    order = np.argsort(inverse, kind="stable")
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    keep = np.concatenate(
        [
            order[s : s + n] if n <= q else rng.choice(order[s : s + n], q, replace=False)
            for s, n in zip(starts, sizes, strict=True)
        ]
    )
    spare = cap - len(keep)  # what the quota's rounding leaves: filled at random from the rows left over
    if spare > 0:
        rest = np.setdiff1d(np.arange(len(asset)), keep)
        keep = np.r_[keep, rng.choice(rest, spare, replace=False)]
    return np.sort(keep)


@dataclass
class Selection:
    keep: np.ndarray  # int64 row indices into the candidates, time order
    excluded: Counter[str]  # reason -> windows left out
    candidates: int

    def counts(self) -> dict[str, Any]:
        return {
            "candidates": self.candidates,
            "kept": int(len(self.keep)),
            "excluded": {r: int(self.excluded.get(r, 0)) for r in REASONS},
        }


def select(
    asset: np.ndarray,
    ts_ms: np.ndarray,
    above: np.ndarray,
    ranges: AlarmRanges,
    since: Mapping[str, int],
    cap: int,
    seed: int,
) -> Selection:
    """The rows that may enter the new reference (see the module docstring); ``above`` is bool [n], the windows
    scoring over the exclusion quantile."""
    asset, ts_ms = np.asarray(asset).astype(str), np.asarray(ts_ms, dtype=np.int64)
    if not (len(asset) == len(ts_ms) == len(above)):
        raise ValueError(f"asset, ts and scores disagree in length: {len(asset)}, {len(ts_ms)}, {len(above)}")
    excluded: Counter[str] = Counter()
    left = np.ones(len(asset), dtype=bool)
    for reason, mask in (
        ("before_since", before_since(asset, ts_ms, since)),
        ("alarmed", alarmed_mask(asset, ts_ms, ranges)),
        ("above_quantile", np.asarray(above, dtype=bool)),
    ):
        excluded[reason] = int((mask & left).sum())
        left &= ~mask
    rows = np.flatnonzero(left)
    kept = rows[quota_sample(asset[rows], cap, seed)]
    excluded["over_cap"] = int(len(rows) - len(kept))
    return Selection(keep=kept.astype(np.int64), excluded=excluded, candidates=len(asset))
