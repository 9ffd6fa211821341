"""The ``drift`` section: a river drift detector on each asset's reconstruction-error stream (``daemon/drift.py``)
and what a detected drift does (``daemon/drift_report.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from daemon.config.base import doc, require


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

    enabled: bool = field(default=True, metadata=doc("watch each asset's reconstruction error for drift"))
    detector: Literal["adwin", "page_hinkley"] = field(default="adwin", metadata=doc("river's detector"))
    adwin_delta: float = field(default=0.002, metadata=doc("ADWIN's confidence (smaller: fewer false drifts)"))
    ph_delta: float = field(default=0.005, metadata=doc("Page-Hinkley: the change tolerated"))
    ph_threshold: float = field(default=50.0, metadata=doc("Page-Hinkley: the detection threshold"))
    ph_alpha: float = field(default=0.9999, metadata=doc("Page-Hinkley: the forgetting factor"))
    min_windows: int = field(default=300, metadata=doc("windows seen since start or the last drift before one counts"))
    cooldown_s: float = field(default=3600.0, metadata=doc("event-time seconds after an asset's drift before another"))
    every: int = field(
        default=1, metadata=doc("feed every n-th window of an asset (window / stride when they overlap)")
    )
    max_assets: int = field(default=10_000, metadata=doc("detectors kept, the least recently seen dropped first"))
    on_drift: Literal["request", "refresh_now"] = field(
        default="request", metadata=doc("request: write the refresh request; refresh_now: also start the refresh")
    )
    refresh_command: tuple[str, ...] | None = field(
        default=None,
        metadata=doc("argv refresh_now starts; null: `latentwatch refresh --config <this> --if-requested`"),
    )
    refresh_min_interval_s: float = field(default=3600.0, metadata=doc("refresh_now starts at most one per this long"))

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
