"""What the daemon does when a threshold's runaway guard trips (``pipelines/threshold/spot.py``): a log line, the
metrics ``latentwatch_threshold_guard_trips{kind}`` and ``latentwatch_thresholds_held``, the reason in /healthz, and
a refresh request for the asset.

The refresh request is ``refresh-request.json`` beside the checkpoint (``var/state/`` by default), written
atomically: ``{"format": 1, "requests": [{"asset", "reason", "source", "time"[, "since"]}, ...]}``, one entry per
(asset, source), the latest kept; a drift's entry (``source: "drift"``, ``daemon/drift_report.py``) has ``since``.
The refresh job (issue 12) reads it, rebuilds those assets' normal and removes the file; until then the threshold
stays held and alarms go on against its held z_q.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog

from daemon.metrics import Metrics
from pipelines.artifact.store import atomic_write
from pipelines.protocols import Thresholds

log = structlog.get_logger("daemon")
REQUEST_FILE = "refresh-request.json"
FORMAT = 1


def _stamp(epoch_s: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_s))


def request_refresh(
    path: Path,
    asset: str,
    reason: str,
    source: str = "threshold_guard",
    now: float | None = None,
    since: float | None = None,
) -> None:
    """Add (or renew) the request for ``asset`` from ``source``; a file that does not parse is replaced. ``since``
    (epoch s, event time; kept as ``"since"``): the asset's windows from then on are its new normal (a drift)."""
    request_refreshes(path, [(asset, reason, since)], source, now)


def request_refreshes(
    path: Path, requests: Sequence[tuple[str, str, float | None]], source: str, now: float | None = None
) -> None:
    """``request_refresh`` for several (asset, reason, since) at once, in one atomic write (with fsync): a drift
    across the fleet costs one write per commit, not one per asset."""
    stamp = _stamp(time.time() if now is None else now)
    new: dict[str, dict[str, Any]] = {}
    for asset, reason, since in requests:
        new[asset] = {"asset": asset, "reason": reason, "source": source, "time": stamp}
        if since is not None:
            new[asset]["since"] = _stamp(since)
    if not new:
        return
    kept: list[dict[str, Any]] = []
    try:
        doc = json.loads(path.read_bytes())
        if isinstance(doc, dict) and doc.get("format") == FORMAT and isinstance(doc.get("requests"), list):
            kept = [r for r in doc["requests"] if r.get("source") != source or r.get("asset") not in new]
    except FileNotFoundError:
        pass
    except ValueError as e:
        log.warning("refresh_request_unreadable_replaced", path=str(path), error=str(e))
    doc = {"format": FORMAT, "requests": kept + list(new.values())}
    atomic_write(path, json.dumps(doc, indent=1).encode())


class GuardReporter:
    """Drains a bank's guard trips after each commit (so a trip is reported for windows whose offsets are
    committed) and keeps the set of held assets for /healthz."""

    def __init__(self, metrics: Metrics, request_path: Path) -> None:
        self.metrics, self.request_path = metrics, request_path
        self.held: dict[str, str] = {}

    def report(self, bank: Thresholds) -> None:
        trips = bank.take_guard_trips()
        for asset, kind, message in trips:
            self.metrics.threshold_guard_trips.labels(kind=kind).inc()
            log.warning("threshold_guard_tripped", asset=asset, kind=kind, reason=message)
            if kind == "peak_rate":
                request_refresh(self.request_path, asset, message)
        if trips or self.held:
            self.held = bank.guarded()
            self.metrics.thresholds_held.set(len(self.held))

    def health_note(self) -> str:
        """'' when no threshold is held, else what /healthz appends to its reason."""
        if not self.held:
            return ""
        asset, why = next(iter(self.held.items()))
        return (
            f"; {len(self.held)} threshold(s) held by the runaway guard, refresh requested in "
            f"{self.request_path} (e.g. {asset}: {why})"
        )
