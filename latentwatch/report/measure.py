"""What a run achieved, from its alerts and its windows' labels: episodes (true when they overlap a labelled
anomaly), detection and its delay (``latentwatch.demo.outcome``, the demo's own rules), and window-level
precision, recall, F1 and false-alarm rate.

A window counts as flagged when it lies inside an episode, from the window that opened it to its last alarm (what
the alerts say, so it needs no trace); with a trace, also when it alarmed itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from latentwatch.demo.outcome import episodes_from, score_runs
from latentwatch.report.run import Run, Series


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, flagged: np.ndarray, y: np.ndarray) -> None:
        known = y >= 0
        f, a = flagged[known], y[known] == 1
        self.tp += int((f & a).sum())
        self.fp += int((f & ~a).sum())
        self.fn += int((~f & a).sum())
        self.tn += int((~f & ~a).sum())

    def scores(self) -> dict[str, float | None]:
        """precision, recall, F1; FAR = false alarms over normal windows and MAR = missed over anomalous, in %."""

        def ratio(a: int, b: int) -> float | None:
            return a / b if b else None

        p, r = ratio(self.tp, self.tp + self.fp), ratio(self.tp, self.tp + self.fn)
        f1 = 2 * p * r / (p + r) if p is not None and r is not None and p + r > 0 else None
        far, mar = ratio(100 * self.fp, self.fp + self.tn), ratio(100 * self.fn, self.fn + self.tp)
        return {"precision": p, "recall": r, "f1": f1, "far": far, "mar": mar}


def in_episodes(s: Series, episodes: list[dict[str, Any]]) -> np.ndarray:
    flagged = np.zeros(len(s.ts_ms), dtype=bool)
    for ep in episodes:
        lo, hi = int(round(ep["opened_ts"] * 1000)), int(round(ep["last_ts"] * 1000))
        flagged |= (s.ts_ms >= lo) & (s.ts_ms <= hi)
    return flagged


@dataclass
class Measured:
    runs: dict[str, dict[str, Any]]  # asset -> demo.outcome's per-run figures (detected, delay_s, episodes...)
    totals: dict[str, Any]  # demo.outcome's totals (runs detected, true/false episodes)
    episodes: dict[str, list[dict[str, Any]]]  # asset -> its episodes, opened first, each with "true"
    by_episode: dict[str, dict[str, Any]]  # asset (and "fleet") -> window scores, flagged = inside an episode
    by_alarm: dict[str, dict[str, Any]]  # the same with flagged = the window alarmed (traced runs only)


def measure(run: Run) -> Measured:
    eps = episodes_from(run.alerts, {})
    labelled = [s for s in run.series.values() if s.labelled]
    # score_runs reads labels as 1/0: an unlabelled window (-1) inside a labelled asset counts as normal there
    known = [SimpleNamespace(asset=s.asset, ts_ms=s.ts_ms, y=np.maximum(s.y, 0)) for s in labelled]
    per_run, totals = score_runs(known, eps)
    episodes: dict[str, list[dict[str, Any]]] = {}
    for ep in sorted(eps.values(), key=lambda e: e["opened_ts"] or 0):
        episodes.setdefault(ep["asset"], []).append(ep)
    by_episode: dict[str, dict[str, Any]] = {}
    by_alarm: dict[str, dict[str, Any]] = {}
    fleet_ep, fleet_al = Counts(), Counts()
    traced = bool(labelled) and all(s.alarm is not None for s in labelled)
    for s in labelled:
        c = Counts()
        c.add(in_episodes(s, episodes.get(s.asset, [])), s.y)
        fleet_ep.add(in_episodes(s, episodes.get(s.asset, [])), s.y)
        by_episode[s.asset] = c.scores()
        if traced and s.alarm is not None:
            c = Counts()
            c.add(s.alarm, s.y)
            fleet_al.add(s.alarm, s.y)
            by_alarm[s.asset] = c.scores()
    if labelled:
        by_episode["fleet"] = fleet_ep.scores()
        if traced:
            by_alarm["fleet"] = fleet_al.scores()
    return Measured({r["asset"]: r for r in per_run}, totals, episodes, by_episode, by_alarm)


def episode_sensors(alerts: list[dict[str, Any]], top: int = 3) -> dict[str, list[tuple[str, float]]]:
    """Episode id -> the sensors its alerts name, by mean share over the alerts that name any (largest first)."""
    sums: dict[str, dict[str, float]] = {}
    n: dict[str, int] = {}
    for a in alerts:
        eid = (a.get("episode") or {}).get("episode_id")
        if not eid or not a.get("sensors"):
            continue
        n[eid] = n.get(eid, 0) + 1
        acc = sums.setdefault(eid, {})
        for s in a["sensors"]:
            acc[str(s["sensor"])] = acc.get(str(s["sensor"]), 0.0) + float(s["share"])
    return {
        eid: sorted(((k, v / n[eid]) for k, v in acc.items()), key=lambda kv: -kv[1])[:top] for eid, acc in sums.items()
    }
