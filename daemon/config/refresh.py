"""The ``refresh`` section: how ``latentwatch refresh`` rebuilds the reference from recent traffic and when it may
publish the result (``pipelines/refresh``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from daemon.config.base import require


@dataclass(frozen=True)
class RefreshConfig:
    """``lookback_s``: the default range (the last this many seconds of the input topic). ``exclude_quantile``: a
    window scoring above this quantile of its reference's calibration scores (under the current version) is left
    out. ``max_windows``: the size cap, sampled with a quota per asset (``seed``). ``holdout_fraction``: the last
    part of the kept windows (time order) that validates, in no reference. Validation fails when the held-out alarm
    rate rises by more than ``max_alarm_rate_increase`` (absolute), or, with ``labels`` (an .npz of X, y and
    optionally asset), the AUROC drops by more than ``max_auroc_drop``. ``keep_versions``: versions kept after a
    publish (the current and the previous current are never pruned)."""

    lookback_s: float = 86_400.0
    max_windows: int = 1_000_000
    exclude_quantile: float = 0.99
    max_alarm_rate_increase: float = 0.01
    max_auroc_drop: float = 0.02
    labels: Path | None = None
    keep_versions: int = 5
    holdout_fraction: float = 0.1
    seed: int = 0

    def check(self) -> None:
        require(self.lookback_s > 0, "lookback_s", "a positive number of seconds")
        require(self.max_windows > 0, "max_windows", "a positive integer")
        require(0.0 < self.exclude_quantile <= 1.0, "exclude_quantile", "a quantile in (0, 1] (1: exclude none)")
        require(self.max_alarm_rate_increase >= 0, "max_alarm_rate_increase", "a rate >= 0 (absolute)")
        require(0 <= self.max_auroc_drop <= 1, "max_auroc_drop", "a number in [0, 1]")
        require(self.keep_versions >= 2, "keep_versions", "an integer >= 2 (the current and the one before)")
        require(0.0 < self.holdout_fraction < 0.5, "holdout_fraction", "a fraction in (0, 0.5)")
