"""The ``refresh`` section: how ``latentwatch refresh`` rebuilds the reference from recent traffic and when it may
publish the result (``pipelines/refresh``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from daemon.config.base import doc, require


@dataclass(frozen=True)
class RefreshConfig:
    """``lookback_s``: the default range (the last this many seconds of the input topic). ``exclude_quantile``: a
    window scoring above this quantile of its reference's calibration scores (under the current version) is left
    out. ``max_windows``: the size cap, sampled with a quota per asset (``seed``). ``holdout_fraction``: the last
    part of the kept windows (time order) that validates, in no reference. Validation fails when the held-out alarm
    rate rises by more than ``max_alarm_rate_increase`` (absolute), or, with ``labels`` (an .npz of X, y and
    optionally asset), the AUROC drops by more than ``max_auroc_drop``. ``keep_versions``: versions kept after a
    publish (the current and the previous current are never pruned)."""

    lookback_s: float = field(default=86_400.0, metadata=doc("the input topic's last this many seconds are read"))
    max_windows: int = field(default=1_000_000, metadata=doc("windows kept at most, sampled with a quota per asset"))
    exclude_quantile: float = field(
        default=0.99, metadata=doc("windows above this quantile of their reference's calibration are left out")
    )
    max_alarm_rate_increase: float = field(
        default=0.01, metadata=doc("validation fails when the held-out alarm rate rises by more (absolute)")
    )
    max_auroc_drop: float = field(default=0.02, metadata=doc("with `labels`: validation fails when AUROC drops more"))
    labels: Path | None = field(default=None, metadata=doc("an .npz of X, y (and asset) for the AUROC check"))
    keep_versions: int = field(default=5, metadata=doc("versions kept after a publish (current and previous always)"))
    holdout_fraction: float = field(default=0.1, metadata=doc("the newest kept windows that validate, in no reference"))
    seed: int = field(default=0, metadata=doc("the sample's seed"))

    def check(self) -> None:
        require(self.lookback_s > 0, "lookback_s", "a positive number of seconds")
        require(self.max_windows > 0, "max_windows", "a positive integer")
        require(0.0 < self.exclude_quantile <= 1.0, "exclude_quantile", "a quantile in (0, 1] (1: exclude none)")
        require(self.max_alarm_rate_increase >= 0, "max_alarm_rate_increase", "a rate >= 0 (absolute)")
        require(0 <= self.max_auroc_drop <= 1, "max_auroc_drop", "a number in [0, 1]")
        require(self.keep_versions >= 2, "keep_versions", "an integer >= 2 (the current and the one before)")
        require(0.0 < self.holdout_fraction < 0.5, "holdout_fraction", "a fraction in (0, 0.5)")
