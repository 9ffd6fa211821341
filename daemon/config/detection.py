"""What decides an alarm: ``threshold`` (SPOT/DSPOT and its checkpoint) and ``episodes``. The defaults are
``pipelines.defaults``, the values the classes themselves run with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from daemon.config.base import LIVE, require
from pipelines import defaults as D
from pipelines.threshold.params import InvalidParameter, check_params


@dataclass(frozen=True)
class ThresholdConfig:
    method: Literal["spot", "dspot"] = D.METHOD
    q: float = D.Q
    level: float = D.LEVEL
    depth: int = D.DEPTH
    refit_every: int = D.REFIT_EVERY
    max_shape: float = D.MAX_SHAPE
    max_peak_ratio: float = D.MAX_PEAK_RATIO
    persist_m: int = D.PERSIST_M
    persist_n: int = D.PERSIST_N
    release_windows: int = D.RELEASE_WINDOWS
    checkpoint_path: Path = Path("var/state/daemon-state.json")
    checkpoint_interval_s: float = field(default=60.0, metadata=LIVE)
    idle_expiry_s: float | None = 604_800.0  # event time; an asset unseen this long restarts from its calibration

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

    quiet_windows: int = D.QUIET_WINDOWS
    quiet_seconds: float | None = D.QUIET_SECONDS
    max_duration_s: float | None = D.MAX_DURATION_S
    update_every: int = field(default=D.UPDATE_EVERY, metadata=LIVE)

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
