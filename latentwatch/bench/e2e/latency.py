"""The latency phases: every window alerting (produce -> alert published) and ordinary traffic (produce ->
offset committed), each with a bare consumer of the same input as its peer."""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from latentwatch.bench.e2e.harness import REJOIN_STALL_EVENT, Stalled, check_stall, daemon_config, make_topics, say

LATENCY_SHIFT = (50.0, 100.0)  # x * 50 + 100: far outside the scaler's normal range -> every window alarms


def _pct(values: list[float], q: float) -> float | None:
    import numpy as np

    return round(float(np.percentile(values, q)), 1) if values else None


def _dist(values: list[float]) -> dict[str, Any]:
    return {
        "p50": _pct(values, 50),
        "p90": _pct(values, 90),
        "p99": _pct(values, 99),
        "max": round(max(values), 1) if values else None,
    }


def _over_time(sent_ms: list[float], latency_ms: list[float], warmup_s: float = 5.0) -> dict[str, Any]:
    """Where in the run the slow windows were: the distribution without the first ``warmup_s`` seconds of input, and
    the five seconds of input with the highest maximum latency (seconds since the first window)."""
    if not sent_ms:
        return {}
    t0 = min(sent_ms)
    steady = [lat for t, lat in zip(sent_ms, latency_ms, strict=True) if t - t0 >= warmup_s * 1000]
    worst: dict[int, float] = {}
    for t, lat in zip(sent_ms, latency_ms, strict=True):
        sec = int((t - t0) // 1000)
        worst[sec] = max(worst.get(sec, lat), lat)
    top = sorted(worst.items(), key=lambda kv: -kv[1])[:5]
    return {
        "latency_ms_after_warmup": {"skip_s": warmup_s, **_dist(steady)},
        "worst_seconds": [{"second": sec, "max_ms": round(v, 1)} for sec, v in top],
    }


class Collector(threading.Thread):
    """A bare consumer thread reading ``topic`` from its start while the latency run goes. Per record: (partition,
    offset, record timestamp ms, consumed at ms, source partition, source offset); the source is the alert's
    ``source`` for alerts (``alerts=True``), the record itself otherwise."""

    def __init__(self, bootstrap: str, topic: str, security: dict[str, Any], alerts: bool) -> None:
        super().__init__(name=f"bench-{topic}", daemon=True)
        from kafka import KafkaConsumer, TopicPartition

        self.alerts = alerts
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            client_id="bench-collector",
            enable_auto_commit=False,
            fetch_max_wait_ms=10,
            **security,
        )
        tps = [TopicPartition(topic, p) for p in sorted(self.consumer.partitions_for_topic(topic) or ())]
        self.consumer.assign(tps)
        self.consumer.seek_to_beginning(*tps)
        self.rows: list[tuple[int, int, int, float]] = []  # (source partition, source offset, record ts, consumed)
        self.stop_event = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        import orjson

        try:
            while not self.stop_event.is_set():
                got = self.consumer.poll(timeout_ms=50)
                now_ms = time.time() * 1000.0
                for recs in got.values():
                    for r in recs:
                        if not self.alerts:
                            self.rows.append((r.partition, r.offset, r.timestamp, now_ms))
                            continue
                        src = orjson.loads(r.value).get("source") or {}
                        if "partition" in src:
                            self.rows.append((src["partition"], src["offset"], r.timestamp, now_ms))
        except BaseException as e:  # reported by the caller
            self.error = e
        finally:
            self.consumer.close()


class CommitPoller(threading.Thread):
    """Polls the group's committed offsets every ``every_s`` (one OffsetFetch round trip each): (wall ms, offsets)."""

    def __init__(self, bootstrap: str, group: str, topic: str, security: dict[str, Any], every_s: float = 0.01):
        super().__init__(name="bench-commits", daemon=True)
        self.args = (bootstrap, group, topic, security)
        self.every_s = every_s
        self.samples: list[tuple[float, dict[int, int]]] = []
        self.stop_event = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        from latentwatch.kafka.admin import admin_client, committed

        bootstrap, group, topic, security = self.args
        try:
            with admin_client(bootstrap, security) as admin:
                while not self.stop_event.is_set():
                    got = committed(bootstrap, group, topic, admin=admin)
                    self.samples.append((time.time() * 1000.0, got))
                    time.sleep(self.every_s)
        except BaseException as e:  # reported by the caller
            self.error = e

    def seen_committed(self, partition: int, offset: int) -> float | None:
        """Wall ms of the first sample in which ``offset`` of ``partition`` was committed (committed > offset)."""
        import bisect

        key = f"_p{partition}"
        if not hasattr(self, key):
            setattr(self, key, ([t for t, _ in self.samples], [c.get(partition, -1) for _, c in self.samples]))
        times, offs = getattr(self, key)
        i = bisect.bisect_right(offs, offset)  # committed offsets only grow
        return times[i] if i < len(times) else None


ALERT_EVERY_WINDOW = {
    "threshold": {"method": "spot"},
    "episodes": {"update_every": 1, "quiet_seconds": None, "max_duration_s": None, "quiet_windows": 5},
}


def alert_plan(args: argparse.Namespace, spec: Any) -> Any:
    """The SKAB windows shifted far out of the normal range: every one alarms (latentwatch/bench/e2e/__init__.py,
    "latency")."""
    from latentwatch.replay import Plan
    from pipelines.sources import WindowStream, streams

    a, b = LATENCY_SHIFT
    return Plan.build(
        "bench-latency",
        [
            WindowStream("lat/" + s.asset, (s.X * a + b).astype(s.X.dtype), s.y, s.ts_ms)
            for s in streams("skab", args.data_dir, spec)
        ],
    )


def latency_run(
    args: argparse.Namespace,
    base_cfg: Path,
    work: Path,
    bootstrap: str,
    security: dict[str, Any],
    artifact: Path,
    spec: Any,
    topics_made: list[str],
    mode: str = "alert",
) -> dict[str, Any]:
    """``mode="alert"``: every window alarms and publishes an alert; latency = alert timestamp - input timestamp.
    ``mode="commit"``: the SKAB windows as they are, the config's thresholds and episodes (few alerts); latency =
    when the bench first saw the window's offset committed (polled every 10 ms) - input timestamp. The daemon
    commits a batch only after its alerts are acknowledged, so this bounds produce-to-alert for every window."""
    from kafka import KafkaProducer

    from latentwatch.daemon_process import DaemonProcess, free_port, metric_by_label, thread_cpu
    from latentwatch.replay import Plan, producer_settings, replay
    from pipelines.sources import streams

    run_id = uuid.uuid4().hex[:8]
    topics = make_topics(bootstrap, security, run_id, f"-{mode}", topics_made)
    group = f"bench-e2e-{run_id}-{mode}"
    port = free_port()
    # every window alarms (ALERT_EVERY_WINDOW: SPOT, which never takes an alarm into its model) or the SKAB replay
    if mode == "alert":
        plan, every_window = alert_plan(args, spec), ALERT_EVERY_WINDOW
    else:
        plan, every_window = Plan.build("skab", streams("skab", args.data_dir, spec)), {}
    cfg = daemon_config(
        base_cfg,
        work / f"latency-{mode}.yaml",
        bootstrap,
        topics,
        group,
        artifact,
        work / f"state-{mode}-{run_id}.json",
        port,
        **every_window,
    )
    n = int(round(args.rate * args.duration))
    collector = Collector(bootstrap, topics["alerts"], security, alerts=True)
    raw = Collector(bootstrap, topics["input"], security, alerts=False)  # the peer: plain delivery, same process
    poller = CommitPoller(bootstrap, group, topics["input"], security) if mode == "commit" else None
    threads = [t for t in (collector, raw, poller) if t is not None]
    for t in threads:
        t.start()
    (work / f"latency-{mode}-daemon.log").unlink(missing_ok=True)
    d = DaemonProcess(cfg, work / f"latency-{mode}-daemon.log", port)
    d.start()
    try:
        d.wait_consuming(timeout_s=300)
        cpu0 = thread_cpu(d.pid)
        producer = KafkaProducer(**producer_settings([bootstrap], security, linger_ms=0))
        try:
            what = "always-alarming windows" if mode == "alert" else "SKAB windows (normal thresholds)"
            say(f"latency ({mode}): {n} {what} at {args.rate:g}/s into {topics['input']}")
            rep = replay(producer, topics["input"], plan, rate=args.rate, limit=n, loop=True)
        finally:
            producer.close(timeout=30)
        if rep.errors:
            raise RuntimeError(f"the latency replay lost {rep.errors} messages: {rep.first_error}")
        last_alert = [0, time.monotonic()]  # (alerts seen, when that count last changed)
        _wait_through(
            d,
            threads,
            lambda m: _done(m, n, mode, raw, collector, poller, last_alert),
            collector,
            f"latency ({mode})",
            args.timeout,
        )
        time.sleep(0.1)
        cpu1 = thread_cpu(d.pid)
        m = d.metrics()
        rc = d.stop()
    finally:
        for t in threads:
            t.stop_event.set()
        d.kill()
    for t in threads:
        t.join(timeout=10)
    if REJOIN_STALL_EVENT in Path(d.log).read_text(errors="replace"):
        raise Stalled(
            f"the daemon's group rejoin stalled and it replaced its consumer (no partitions for 15 s, so "
            f"the latencies measure that); daemon log: {d.log}"
        )
    lat = _latencies(raw, collector, poller)
    alerts_by_event = {k: int(v) for k, v in metric_by_label(m, "latentwatch_alerts", "event").items() if v}
    cpu = {k: round(cpu1.get(k, 0.0) - cpu0.get(k, 0.0), 2) for k in cpu1}
    measured = lat["publish"] if mode == "alert" else lat["commit"]
    out = {
        "mode": mode,
        "rate": args.rate,
        "duration_s": args.duration,
        "windows": n,
        "achieved_rate": round(rep.rate, 1),
        "alerts": len(collector.rows),
        "alerts_by_event": alerts_by_event,
        "windows_measured": len(measured),
        "coverage": round(len(measured) / n, 4) if n else None,
        "latency_ms": _dist(measured),
        "raw_delivery_ms": _dist(lat["delivered"]),
        "daemon_cpu_s": cpu,
        "daemon_cpu_us_per_window": round(1e6 * cpu.get("total", 0) / n, 1) if n else None,
        "exit_code": rc,
        "topics": topics,
    }
    out.update(_over_time(lat["publish_at"] if mode == "alert" else lat["commit_at"], measured))
    out["batches_committed_within_s"] = metric_by_label(m, "latentwatch_batch_latency_seconds_bucket", "le")
    if mode == "alert":
        out["alert_consumed_ms"] = _dist(lat["consumed"])
    else:
        out["commit_poll_interval_ms"] = 10
        out["commit_polls"] = len(poller.samples)
    return out


def _done(
    m: dict[str, float] | None,
    n: int,
    mode: str,
    raw: Collector,
    collector: Collector,
    poller: CommitPoller | None,
    last_alert: list[float],
) -> bool:
    """Whether every one of the ``n`` windows came through: for ``commit``, committed; for ``alert``, scored and its
    alert seen (should some window not alert, once the daemon is done and no alert came for 3 s)."""
    from latentwatch.daemon_process import metric_sum

    if len(raw.rows) < n or m is None:
        return False
    if mode == "commit":
        return bool(poller.samples) and sum(poller.samples[-1][1].values()) >= n
    if len(collector.rows) != last_alert[0]:
        last_alert[:] = [len(collector.rows), time.monotonic()]
    finished = metric_sum(m, "latentwatch_windows_scored") + metric_sum(m, "latentwatch_dead_letters") >= n
    return finished and (len(collector.rows) >= n or time.monotonic() - last_alert[1] > 3)


def _wait_through(
    d: Any, threads: list[threading.Thread], done: Any, collector: Collector, what: str, timeout_s: float
) -> None:
    """Poll the daemon's /metrics every 0.25 s until ``done(metrics)``; fail when the daemon or a bench consumer
    dies, nothing moves for STALL_S, or ``timeout_s`` passes."""
    from latentwatch.daemon_process import metric_sum

    deadline = time.monotonic() + timeout_s
    progress: list[tuple[float, float, float, float]] = []
    while True:
        d.check_alive()
        for t in threads:
            if t.error is not None:
                raise RuntimeError(f"a bench consumer failed: {t.error!r}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not every window came through within {timeout_s:.0f}s; daemon log: {d.log}")
        try:
            m = d.metrics()
        except RuntimeError:
            m = None
        if done(m):
            return
        if m is not None:  # progress = anything moving: consumed, scored, alerts seen
            progress.append(
                (
                    time.perf_counter(),
                    metric_sum(m, "latentwatch_windows_consumed")
                    + metric_sum(m, "latentwatch_windows_scored")
                    + len(collector.rows),
                    0,
                    0,
                )
            )
        check_stall(progress, d, d.log)
        time.sleep(0.25)


def _latencies(raw: Collector, collector: Collector, poller: CommitPoller | None) -> dict[str, list[float]]:
    """Per window, in ms from its input timestamp: delivered to the bare consumer, alert published (its record
    timestamp), alert consumed, offset seen committed; ``publish_at``, ``commit_at``: the input timestamps of the
    windows measured in ``publish`` and in ``commit`` (a commit run can publish alerts too: windows that alarm)."""
    sent = {(p, o): ts for p, o, ts, _ in raw.rows}
    out: dict[str, list[float]] = {
        "delivered": [got - ts for _, _, ts, got in raw.rows],
        "publish": [],
        "consumed": [],
        "commit": [],
        "publish_at": [],
        "commit_at": [],
    }
    for p, o, alert_ts, got_ms in collector.rows:
        t_in = sent.get((p, o))
        if t_in is not None:
            out["publish"].append(alert_ts - t_in)
            out["consumed"].append(got_ms - t_in)
            out["publish_at"].append(t_in)
    if poller is not None:
        for (p, o), ts in sent.items():
            seen = poller.seen_committed(p, o)
            if seen is not None:
                out["commit"].append(seen - ts)
                out["commit_at"].append(ts)
    return out
