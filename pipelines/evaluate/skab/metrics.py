"""SKAB's scores for a set of per-file decisions, and what a reliability engineer reads from the same decisions.

Outlier problem (waico/SKAB ``core/metrics.py``, ``metric="binary"``): TP/FP/FN/TN pooled over every test row of
every file; F1 = TP / (TP + (FN + FP) / 2), FAR = FP / (FP + TN), MAR = FN / (FN + TP).

Changepoint problem (the same file, ``metric="nab"`` with ``window_width="60s"``, ``anomaly_window_destination=
"righter"``, ``intersection_mode="cut right window"``, the "improved" scoring function with koef 1):
- predicted changepoints are the rows where the flag series changes (|diff|, the first row counts when flagged),
  as in SKAB's notebooks;
- each labelled changepoint c opens a detection window [c, c + 60 s]; where a window reaches past the next one's
  start, the next one starts where it ends;
- per window, the first prediction inside it (both ends included) is a TP scored by a tanh ramp from A_tp at the
  window's start to A_fp at its end; a window without one is an FN (A_fn); every prediction outside all windows is
  an FP (A_fp); predictions after the first inside a window count for nothing;
- per profile, summed over files: 100 * (S - S_null) / (S_perfect - S_null), S_null = windows * A_fn,
  S_perfect = windows * A_tp. Profiles (A_tp, A_fp, A_fn): standard (1, -0.11, -1), LowFP (1, -0.22, -1),
  LowFN (1, -0.11, -2).

Reliability view: a file's fault is its labelled anomalous test rows; it is detected when a flagged row overlaps it;
its delay is the time from its first anomalous row to the first flagged row inside it; a false episode is a maximal
run of flagged rows that touches no anomalous row, counted per 1,000 normal (label 0) test rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

NAB_PROFILES: dict[str, tuple[float, float, float]] = {  # (A_tp, A_fp, A_fn)
    "standard": (1.0, -0.11, -1.0),
    "low_fp": (1.0, -0.22, -1.0),
    "low_fn": (1.0, -0.11, -2.0),
}
NAB_WINDOW_S = 60
_DETAIL = 1000  # points of SKAB's scoring function


@dataclass(frozen=True)
class FileDecisions:
    """One file's test rows in time order: ts int64 [n] seconds, anomaly / changepoint 0/1 [n], flags bool [n]."""

    name: str
    ts: np.ndarray
    anomaly: np.ndarray
    changepoint: np.ndarray
    flags: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.ts)
        for what in ("anomaly", "changepoint", "flags"):
            if len(getattr(self, what)) != n:
                raise ValueError(f"{self.name}: {what} has {len(getattr(self, what))} rows, ts has {n}")
        if n > 1 and not (np.diff(self.ts) > 0).all():
            raise ValueError(f"{self.name}: timestamps must increase")


@dataclass(frozen=True)
class Confusion:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @classmethod
    def of(cls, y_true: np.ndarray, y_pred: np.ndarray) -> Confusion:
        t, p = np.asarray(y_true) != 0, np.asarray(y_pred) != 0
        return cls(int((t & p).sum()), int((~t & p).sum()), int((t & ~p).sum()), int((~t & ~p).sum()))

    def __add__(self, o: Confusion) -> Confusion:
        return Confusion(self.tp + o.tp, self.fp + o.fp, self.fn + o.fn, self.tn + o.tn)

    @property
    def f1(self) -> float:
        d = self.tp + (self.fn + self.fp) / 2
        return self.tp / d if d else 0.0

    @property
    def far(self) -> float:
        """False alarm rate in %."""
        return 100.0 * self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0

    @property
    def mar(self) -> float:
        """Missing alarm rate in %."""
        return 100.0 * self.fn / (self.fn + self.tp) if self.fn + self.tp else 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "f1": self.f1,
            "far": self.far,
            "mar": self.mar,
        }


def changes(flags: np.ndarray) -> np.ndarray:
    """Predicted changepoints of a flag series: rows where it changes; the first row counts when it is flagged."""
    f = np.asarray(flags, dtype=np.int64)
    out = np.zeros(f.size, dtype=bool)
    if f.size:
        out[0] = f[0] != 0
        out[1:] = np.diff(f) != 0
    return out


def nab_windows(cp_ts: np.ndarray, width_s: float = NAB_WINDOW_S) -> list[tuple[float, float]]:
    """[start, end] after each changepoint; an overlapped window starts where the previous one ends."""
    wins = [[float(t), float(t) + width_s] for t in np.sort(np.asarray(cp_ts, dtype=np.float64))]
    for a, b in zip(wins[:-1], wins[1:], strict=False):
        if a[1] >= b[0]:
            b[0] = a[1]
    return [(a, b) for a, b in wins]


def _ramp(position: float, a_tp: float, a_fp: float) -> float:
    """SKAB's improved NAB scoring function at a relative position in [0, 1] of its window."""
    x = np.linspace(-np.pi / 2, np.pi / 2, _DETAIL)
    i = min(int(position * _DETAIL), _DETAIL - 1)
    return float((a_tp - a_fp) / 2 * -np.tanh(x[i]) / np.tanh(np.pi / 2) + (a_tp - a_fp) / 2 + a_fp)


@dataclass(frozen=True)
class NabCounts:
    """One file: relative position of each TP window's first prediction, FN windows, FP predictions, windows."""

    tp_positions: tuple[float, ...]
    fn: int
    fp: int
    windows: int


def nab_counts(pred_ts: np.ndarray, windows: Sequence[tuple[float, float]]) -> NabCounts:
    t = np.sort(np.asarray(pred_ts, dtype=np.float64))
    if not windows:
        return NabCounts((), 0, int(t.size), 0)
    positions, fn = [], 0
    outside = t < windows[0][0]
    for i, (lo, hi) in enumerate(windows):
        inside = t[(t >= lo) & (t <= hi)]
        if inside.size:
            positions.append((inside[0] - lo) / (hi - lo) if hi > lo else 0.0)
        else:
            fn += 1
        nxt = windows[i + 1][0] if i + 1 < len(windows) else np.inf
        outside |= (t > hi) & (t < nxt)
    return NabCounts(tuple(positions), fn, int(outside.sum()), len(windows))


def nab_scores(counts: Iterable[NabCounts]) -> dict[str, float]:
    """The three NAB profiles over files (100 = perfect, 0 = the null detector)."""
    counts = list(counts)
    out = {}
    for name, (a_tp, a_fp, a_fn) in NAB_PROFILES.items():
        s = sum(a_fp * c.fp + a_fn * c.fn + sum(_ramp(p, a_tp, a_fp) for p in c.tp_positions) for c in counts)
        n = sum(c.windows for c in counts)
        null, perfect = n * a_fn, n * a_tp
        out[name] = 100.0 * (s - null) / (perfect - null) if perfect != null else 0.0
    return out


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each maximal run of True."""
    f = np.r_[False, np.asarray(flags, dtype=bool), False].astype(np.int8)
    d = np.diff(f)
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=False))


@dataclass(frozen=True)
class FaultView:
    detected: bool | None  # None: the file has no anomalous test row
    delay_s: float | None
    false_episodes: int
    normal_rows: int


def fault_view(d: FileDecisions) -> FaultView:
    anomalous = np.asarray(d.anomaly) != 0
    flags = np.asarray(d.flags, dtype=bool)
    false_eps = sum(1 for a, b in runs(flags) if not anomalous[a:b].any())
    normal = int((~anomalous).sum())
    if not anomalous.any():
        return FaultView(None, None, false_eps, normal)
    hits = np.flatnonzero(anomalous & flags)
    if not hits.size:
        return FaultView(False, None, false_eps, normal)
    first = int(np.flatnonzero(anomalous)[0])
    return FaultView(True, float(d.ts[hits[0]] - d.ts[first]), false_eps, normal)


def evaluate(files: Sequence[FileDecisions], nab_width_s: float = NAB_WINDOW_S) -> dict[str, Any]:
    """Every score of a set of files, pooled: binary, NAB, and the reliability view."""
    conf = Confusion()
    counts, views = [], []
    for d in files:
        conf = conf + Confusion.of(d.anomaly, d.flags)
        cp_ts = np.asarray(d.ts)[np.asarray(d.changepoint) != 0]
        counts.append(nab_counts(np.asarray(d.ts)[changes(d.flags)], nab_windows(cp_ts, nab_width_s)))
        views.append(fault_view(d))
    faulty = [v for v in views if v.detected is not None]
    delays = [v.delay_s for v in faulty if v.detected and v.delay_s is not None]
    normal = sum(v.normal_rows for v in views)
    false_eps = sum(v.false_episodes for v in views)
    return {
        "files": len(files),
        "binary": conf.as_dict(),
        "nab": nab_scores(counts),
        "changepoints": {
            "windows": sum(c.windows for c in counts),
            "missed": sum(c.fn for c in counts),
            "false_positives": sum(c.fp for c in counts),
        },
        "faults": {
            "detected": sum(1 for v in faulty if v.detected),
            "of": len(faulty),
            "median_delay_s": float(np.median(delays)) if delays else None,
            "false_episodes": false_eps,
            "normal_rows": normal,
            "false_episodes_per_1000_normal": 1000.0 * false_eps / normal if normal else 0.0,
        },
    }
