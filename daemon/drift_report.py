"""What the daemon does with each asset's error stream after a commit (``Daemon._on_committed``, so a drift is
reported for windows whose offsets are committed, as the threshold guard's trips are): feed the drift detectors
(``daemon.drift``) and, for each drift found, a log line, ``latentwatch_drift_detected_total``, the asset in
``latentwatch_drift_assets`` and a refresh request (``daemon.threshold_guard.request_refresh``, ``source: "drift"``,
with ``since``). With ``drift.on_drift: refresh_now`` it also starts the refresh command, detached.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import structlog

from daemon.batch import Batch
from daemon.config.drift import DriftConfig
from daemon.drift import Drift, DriftDetectors
from daemon.metrics import Metrics
from daemon.threshold_guard import request_refreshes

log = structlog.get_logger("daemon")


def _iso(epoch_s: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_s))


def default_refresh_command(config_path: Path | None) -> tuple[str, ...] | None:
    """``latentwatch refresh`` for the daemon's own config, with this interpreter; None without a config file."""
    if config_path is None:
        return None
    return (sys.executable, "-m", "latentwatch", "refresh", "--config", str(config_path), "--if-requested")


class DriftReporter:
    def __init__(self, cfg: DriftConfig, metrics: Metrics, request_path: Path, config_path: Path | None) -> None:
        self.cfg, self.metrics, self.request_path = cfg, metrics, request_path
        self.detectors = DriftDetectors(cfg)
        self.command = cfg.refresh_command or default_refresh_command(config_path)
        self.in_drift: set[str] = set()
        self.process: subprocess.Popen[bytes] | None = None
        self._last_start: float | None = None

    def observe(self, batches: Sequence[Batch]) -> None:
        if not self.cfg.enabled:
            return
        found: list[Drift] = []
        for b in batches:
            w, scored = b.windows, b.scored
            if w is None or scored is None or not len(w):
                continue
            error = scored.recon_error if scored.recon_error is not None else scored.components.get("recon_error")
            if error is None:
                continue
            quiet = np.ones(len(w), dtype=bool)
            if b.alarms is not None:
                quiet &= ~np.asarray(b.alarms, dtype=bool)
            if b.thresholds is not None:
                quiet &= ~(np.asarray(scored.score) > np.asarray(b.thresholds))
            rows = np.flatnonzero(quiet)
            assets = [w.asset[i] for i in rows.tolist()] if len(rows) < len(w) else w.asset
            found += self.detectors.observe(assets, w.ts_ms[rows] / 1000.0, np.asarray(error)[rows])
        if found:
            self._report(found)

    def reset(self) -> None:
        """A new model version: every detector starts again, no asset is in drift under it yet."""
        self.detectors.reset()
        self.in_drift.clear()
        self.metrics.drift_assets.set(0)

    def _report(self, drifts: list[Drift]) -> None:
        requests = []
        for d in drifts:
            log.warning(
                "drift_detected",
                asset=d.asset,
                detector=d.detector,
                error_before=round(d.before, 6),
                error_after=round(d.after, 6),
                since=_iso(d.since),
                at=_iso(d.at),
                request=str(self.request_path),
            )
            reason = f"{d.detector}: reconstruction error {d.before:.4g} -> {d.after:.4g} since {_iso(d.since)}"
            requests.append((d.asset, reason, d.since))
            self.in_drift.add(d.asset)
        self.metrics.drift_detected.inc(len(drifts))
        self.metrics.drift_assets.set(len(self.in_drift))
        request_refreshes(self.request_path, requests, source="drift")
        if self.cfg.on_drift == "refresh_now":
            self._start_refresh()

    def _start_refresh(self) -> None:
        """At most one refresh process at a time, and one start per ``refresh_min_interval_s``; the request file
        stays for the timer when none is started."""
        now = time.monotonic()
        if self.process is not None and self.process.poll() is None:
            log.info("drift_refresh_still_running", pid=self.process.pid)
            return
        if self._last_start is not None and now - self._last_start < self.cfg.refresh_min_interval_s:
            left = self.cfg.refresh_min_interval_s - (now - self._last_start)
            log.info("drift_refresh_not_started_min_interval", seconds_left=round(left))
            return
        if self.command is None:
            log.error("drift_refresh_no_command", hint="set drift.refresh_command (no config file to refresh with)")
            return
        try:
            self.process = subprocess.Popen(
                list(self.command),
                stdin=subprocess.DEVNULL,  # its log lines go where the daemon's go
                start_new_session=True,
            )
        except OSError as e:
            log.error("drift_refresh_start_failed", command=list(self.command), error=str(e))
            return
        self._last_start = now
        self.metrics.drift_refreshes.inc()
        log.warning("drift_refresh_started", pid=self.process.pid, command=list(self.command))
