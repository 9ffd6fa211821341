"""What a report is made of: every window of each asset (time, label, and, when known, score, threshold, alarm and
components), the alerts as the daemon published them, and the run's settings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SCORES_ALERTS_ONLY = "alerts only: the live daemon publishes no score for a window that did not alarm"


@dataclass
class Series:
    """One asset's windows in event-time order. ``y``: 1 labelled anomalous, 0 normal, -1 unlabelled."""

    asset: str
    ts_ms: np.ndarray  # int64 [n]
    y: np.ndarray  # int8 [n]
    score: np.ndarray | None = None  # float64 [n], the daemon's score of every window (a trace)
    threshold: np.ndarray | None = None  # float64 [n], the threshold each window was decided against
    alarm: np.ndarray | None = None  # bool [n], the decision (after persistence)
    components: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.ts_ms)
        for name, arr in (("y", self.y), ("score", self.score), ("threshold", self.threshold), ("alarm", self.alarm)):
            if arr is not None and len(arr) != n:
                raise ValueError(f"series {self.asset!r}: {name} has {len(arr)} values for {n} windows")

    @property
    def labelled(self) -> bool:
        return bool((self.y >= 0).any())


@dataclass
class Run:
    series: dict[str, Series]  # asset -> its windows
    alerts: list[dict[str, Any]]  # decoded alert messages, in publication order
    settings: dict[str, Any] = field(default_factory=dict)  # what the run was: config, artifact, thresholds
    source: str = ""  # where it was read from
    scores: str = SCORES_ALERTS_ONLY  # where the drawn scores come from
    reproduced: dict[str, Any] | None = None  # the trace against the live alerts: {"live", "offline", "same"}

    def assets(self) -> list[str]:
        """Every asset with windows or alerts, in name order (numbers by value: run/2 before run/10)."""
        names = set(self.series) | {str(a["asset"]) for a in self.alerts}
        return sorted(names, key=lambda n: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", n)])

    def alerts_of(self, asset: str) -> list[dict[str, Any]]:
        return [a for a in self.alerts if a["asset"] == asset]

    def artifact_versions(self) -> list[str]:
        return sorted({str(a["artifact_version"]) for a in self.alerts if a.get("artifact_version")})
