"""What decides an alarm: ``threshold`` (SPOT/DSPOT and its checkpoint) and ``episodes``. The defaults are
``pipelines.defaults``, the values the classes themselves run with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from daemon.config.base import doc, require
from pipelines import defaults as D
from pipelines.threshold.params import InvalidParameter, check_params


@dataclass(frozen=True)
class ThresholdConfig:
    """Each asset's extreme-value threshold (SPOT/DSPOT, Siffer et al. 2017), started from its calibration scores in
    the artifact, the persistence rule on top of it, and the checkpoint of that state (``docs/thresholds.md``)."""

    method: Literal["spot", "dspot"] = field(
        default=D.METHOD, metadata=doc("dspot follows a moving average of `depth` windows; spot a fixed level")
    )
    q: float = field(default=D.Q, metadata=doc("the risk: the false-alarm rate per window the threshold aims at"))
    level: float = field(default=D.LEVEL, metadata=doc("quantile of the calibration scores where the peaks start"))
    depth: int = field(default=D.DEPTH, metadata=doc("DSPOT's moving-average depth (windows)"))
    refit_every: int = field(default=D.REFIT_EVERY, metadata=doc("refit the GPD on every n-th new peak (1: each)"))
    max_shape: float = field(default=D.MAX_SHAPE, metadata=doc("upper bound on the fitted GPD shape"))
    max_peak_ratio: float = field(
        default=D.MAX_PEAK_RATIO,
        metadata=doc("runaway guard: peaks at more than this x (1 - level) per window hold the fit, request a refresh"),
    )
    persist_m: int = field(
        default=D.PERSIST_M, metadata=doc("an alarm opens when persist_m of the last persist_n pass")
    )
    persist_n: int = field(default=D.PERSIST_N, metadata=doc("windows looked back on for persist_m"))
    release_windows: int = field(
        default=D.RELEASE_WINDOWS, metadata=doc("quiet windows in a row below the threshold that end an alarm")
    )
    checkpoint_path: Path = field(
        default=Path("var/state/daemon-state.json"),
        metadata=doc("the decision state's checkpoint; refresh requests are written beside it"),
    )
    checkpoint_interval_s: float = field(default=60.0, metadata=doc("seconds between checkpoints", live=True))
    idle_expiry_s: float | None = field(
        default=604_800.0,
        metadata=doc("an asset unseen this long (event time) restarts from its calibration; null: keep every asset"),
    )

    def check(self) -> None:
        try:  # the detector's own rules (pipelines.threshold.spot), with this section's key
            check_params(self.q, self.level, self.refit_every, self.max_shape, self.max_peak_ratio)
        except InvalidParameter as e:
            require(False, e.name, e.expected)
        require(self.depth > 0, "depth", "a positive integer")
        require(self.checkpoint_interval_s > 0, "checkpoint_interval_s", "a positive number of seconds")
        require(
            self.idle_expiry_s is None or self.idle_expiry_s > 0,
            "idle_expiry_s",
            "a positive number of seconds (event time), or null to keep every asset",
        )
        require(self.persist_n >= 1, "persist_n", "an integer >= 1 (windows looked back on)")
        require(1 <= self.persist_m <= self.persist_n, "persist_m", "an integer in [1, threshold.persist_n]")
        require(self.release_windows >= 1, "release_windows", "an integer >= 1 (quiet windows that end an alarm)")


@dataclass(frozen=True)
class EpisodesConfig:
    """An episode closes after ``quiet_windows`` windows without an alarm, or ``quiet_seconds`` (event time) without
    one, or ``max_duration_s`` after it opened; null turns the seconds-based rules off. ``update_every: 0`` sends
    no updates."""

    quiet_windows: int = field(default=D.QUIET_WINDOWS, metadata=doc("windows without an alarm that close an episode"))
    quiet_seconds: float | None = field(
        default=D.QUIET_SECONDS, metadata=doc("event-time seconds without an alarm that close it; null: off")
    )
    max_duration_s: float | None = field(
        default=D.MAX_DURATION_S, metadata=doc("an episode closes this long after it opened; null: off")
    )
    update_every: int = field(
        default=D.UPDATE_EVERY, metadata=doc("an update alert every n-th alarm inside an episode; 0: none", live=True)
    )

    def check(self) -> None:
        require(self.quiet_windows > 0, "quiet_windows", "a positive integer")
        require(
            self.quiet_seconds is None or self.quiet_seconds > 0,
            "quiet_seconds",
            "a positive number of seconds, or null",
        )
        require(
            self.max_duration_s is None or self.max_duration_s > 0,
            "max_duration_s",
            "a positive number of seconds, or null",
        )
        require(self.update_every >= 0, "update_every", "an integer >= 0 (0: no updates)")
