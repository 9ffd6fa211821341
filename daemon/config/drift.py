"""The ``drift`` section: a river drift detector on each asset's reconstruction-error stream (``daemon/drift.py``)
and what a detected drift does (``daemon/drift_report.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from daemon.config.base import require


@dataclass(frozen=True)
class DriftConfig:
    """``detector``: ``adwin`` (river's ADWIN, ``adwin_delta``) or ``page_hinkley`` (``ph_delta``, ``ph_threshold``,
    ``ph_alpha``). Only windows that neither alarmed nor passed their threshold feed it. A drift counts once the
    asset's detector has seen ``min_windows`` windows (since it started, or since its last drift) and
    ``cooldown_s`` (event time) after the asset's last drift. ``on_drift``: ``request`` writes the refresh request
    the next timer run honours; ``refresh_now`` also starts ``refresh_command`` (an argv list; default: this
    interpreter's ``latentwatch refresh --config <the daemon's config> --if-requested``) as a detached process, at
    most once per ``refresh_min_interval_s``. ``max_assets``: detectors kept (least recently seen dropped first).
    ``every``: feed every n-th window of an asset (1: all)."""

    enabled: bool = True
    detector: Literal["adwin", "page_hinkley"] = "adwin"
    adwin_delta: float = 0.002
    ph_delta: float = 0.005
    ph_threshold: float = 50.0
    ph_alpha: float = 0.9999
    min_windows: int = 300
    cooldown_s: float = 3600.0
    every: int = 1
    max_assets: int = 10_000
    on_drift: Literal["request", "refresh_now"] = "request"
    refresh_command: tuple[str, ...] | None = None
    refresh_min_interval_s: float = 3600.0

    def check(self) -> None:
        require(0 < self.adwin_delta < 1, "adwin_delta", "a confidence in (0, 1) (smaller: fewer false drifts)")
        require(self.ph_delta >= 0, "ph_delta", "a magnitude >= 0 (the change tolerated)")
        require(self.ph_threshold > 0, "ph_threshold", "a positive number")
        require(0 < self.ph_alpha <= 1, "ph_alpha", "a forgetting factor in (0, 1]")
        require(self.min_windows >= 16, "min_windows", "an integer >= 16 (windows to tell two levels apart)")
        require(self.cooldown_s >= 0, "cooldown_s", "a number of seconds >= 0 (event time)")
        require(self.every >= 1, "every", "an integer >= 1 (1: every window)")
        require(self.max_assets >= 1, "max_assets", "an integer >= 1")
        require(
            self.refresh_command is None or len(self.refresh_command) > 0,
            "refresh_command",
            "a non-empty argv list, or null for the default",
        )
        require(self.refresh_min_interval_s >= 0, "refresh_min_interval_s", "a number of seconds >= 0")
