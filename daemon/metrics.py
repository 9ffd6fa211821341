"""Prometheus metrics in the daemon's own registry (never the process-global one, so tests and embedders can hold
several daemons)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest

from daemon.wire.schema import Reason


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.consumed = Counter("latentwatch_windows_consumed", "Windows polled from the input topic", registry=r)
        self.scored = Counter("latentwatch_windows_scored", "Windows scored and thresholded", registry=r)
        self.alarms = Counter("latentwatch_alarms", "Scored windows above their threshold", registry=r)
        self.alerts = Counter("latentwatch_alerts", "Alerts published, by episode event", ["event"], registry=r)
        self.dead_letters = Counter(
            "latentwatch_dead_letters", "Windows dead-lettered, by reason", ["reason"], registry=r
        )
        self.commits = Counter("latentwatch_commits", "Offset commits after a flushed batch", registry=r)
        self.consumer_recreated = Counter(
            "latentwatch_consumer_recreated", "Consumers replaced after a stalled group rejoin", registry=r
        )
        self.lag = Gauge(
            "latentwatch_consumer_lag", "High watermark minus committed offset", ["topic", "partition"], registry=r
        )
        self.in_flight = Gauge("latentwatch_in_flight_windows", "Windows polled but not yet committed", registry=r)
        self.paused = Gauge("latentwatch_paused", "1 while partitions are paused for backpressure", registry=r)
        self.artifact = Info("latentwatch_artifact", "The artifact version being scored with", registry=r)
        self.model_swaps = Counter("latentwatch_model_swaps", "Artifact versions swapped in", ["outcome"], registry=r)
        self.batch_latency = Histogram(
            "latentwatch_batch_latency_seconds",
            "From a batch leaving the batcher to its offsets committed",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=r,
        )
        self.threshold_guard_trips = Counter(
            "latentwatch_threshold_guard_trips",
            "Threshold runaway-guard events: peak_rate (the fit is held, a "
            "refresh is requested), shape (a refit hit the GPD shape bound)",
            ["kind"],
            registry=r,
        )
        self.thresholds_held = Gauge(
            "latentwatch_thresholds_held", "Assets whose threshold fit the runaway guard holds", registry=r
        )
        self.drift_detected = Counter(
            "latentwatch_drift_detected",
            "Drifts of an asset's reconstruction-error stream (a refresh is requested)",
            registry=r,
        )
        self.drift_assets = Gauge(
            "latentwatch_drift_assets",
            "Assets whose error stream drifted under the current artifact version",
            registry=r,
        )
        self.drift_refreshes = Counter(
            "latentwatch_drift_refreshes_started",
            "Refresh processes started on a drift (drift.on_drift: refresh_now)",
            registry=r,
        )
        for kind in ("peak_rate", "shape"):
            self.threshold_guard_trips.labels(kind=kind)
        for reason in Reason.ALL:
            self.dead_letters.labels(reason=reason)
        for event in ("open", "update", "close"):
            self.alerts.labels(event=event)

    def render(self) -> bytes:
        return generate_latest(self.registry)
