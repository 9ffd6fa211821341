"""`latentwatch bench e2e`: the daemon end to end through the real broker, next to a bare kafka-python consumer.

    latentwatch bench e2e                                   # 100k windows, 2,000/s for 30 s, a profiled pass
    latentwatch bench e2e --windows 2000 --rate 200 --duration 3 --no-profile    # the smoke test's size

Three measurements, each on its own topics (4 input partitions) and its own consumer group, one daemon instance
(``python -m latentwatch run --config FILE``, a child process, ``OMP_NUM_THREADS=1``):

1. **throughput**: ``--windows`` SKAB windows (the labelled runs, looped) are produced up front with the replay
   producer (``daemon.replay.replay``). Then, on the same topic: a bare ``KafkaConsumer`` loop (assign, seek to the
   beginning, ``poll(max_records=1000)`` until every record is seen: no decoding) -> raw records/s; the daemon from
   an empty group until its committed offsets reach the end offsets -> windows/s (from the first record it consumed
   to the last commit, sampled from its /metrics every 0.1 s); the bare loop again. ratio = daemon / mean of the two
   bare runs, so a change of load on a shared machine during the run shows up as a gap between the two bare runs.
   The daemon's config is ``--config`` (default conf/local.yaml: batches of 1000, linger 5 ms, DSPOT) with only the
   topics, group, artifact, checkpoint path and HTTP port replaced. Also reported: the daemon's CPU seconds
   (main thread vs kafka-python's background threads, from /proc) and windows per CPU second.
2. **latency**: a fresh daemon whose every window raises an alert: the SKAB windows are shifted far out of the
   normal range (``x * 50 + 100``; their ARES scores sit about 80x above the DSPOT threshold) and
   ``episodes.update_every: 1``, so each window publishes one alert (the first of an asset ``open``, the rest
   ``update``), with ``quiet_seconds``/``max_duration_s`` off. The replay producer sends at ``--rate`` windows/s
   for ``--duration`` s; an alert consumer runs alongside. Latency of a window = the alert record's timestamp
   (CreateTime, stamped by the daemon's producer in ``send()``) minus the input record's timestamp (stamped by the
   replay's producer in ``send()``), joined on the alert's ``source`` (partition, offset); both clocks are this
   machine's, resolution 1 ms. Also: alert consumed by the bench's consumer minus input timestamp (adds the alert
   topic's delivery). Every alert is one more produced message and one more log line, so this is the alert path's
   worst case; p50/p99 over every window.
3. **profile** (``--no-profile`` to skip): the throughput run again under cProfile (``python -m cProfile -m
   latentwatch run``) on the same topic with a new group; the main thread's time split into consumer poll, decode,
   scoring, thresholds, alert policy, producer sends, commit (flush + offset commit), metrics, and the rest. cProfile
   slows Python code down, so its windows/s is not the throughput number; its shares are the breakdown.

Prints a table and writes everything as JSON (``--out``, default out/bench-e2e.json). Goals (from the issue):
>= 10,000 windows/s per instance, >= 0.5x the raw consume rate, p99 <= 200 ms at 2,000 windows/s.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

GOALS = {"windows_per_s": 10_000.0, "ratio_vs_raw": 0.5, "p99_ms": 200.0, "rate": 2000.0}
LATENCY_SHIFT = (50.0, 100.0)  # x * 50 + 100: far outside the scaler's normal range -> every window alarms


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default="conf/local.yaml", metavar="FILE",
                   help="daemon YAML the benchmark's daemons start from (default conf/local.yaml)")
    p.add_argument("--bootstrap", help="broker (default: the config's); the local one is started if needed")
    p.add_argument("--artifact", metavar="DIR", help="artifact version directory (default: the config's current "
                   "one; if there is none a 3-epoch SKAB model is trained into the work folder)")
    p.add_argument("--windows", type=int, default=100_000, help="windows for the throughput run (default 100000)")
    p.add_argument("--rate", type=float, default=GOALS["rate"], help="windows/s for the latency run (default 2000)")
    p.add_argument("--duration", type=float, default=30.0, help="seconds of the latency run (default 30)")
    p.add_argument("--no-profile", action="store_true", help="skip the profiled pass")
    p.add_argument("--keep-topics", action="store_true", help="leave the benchmark's topics on the broker")
    p.add_argument("--out", default="out/bench-e2e.json", metavar="FILE",
                   help="result JSON; the daemons' configs, logs and profile go to <dir of FILE>/bench-e2e/")
    p.add_argument("--data-dir", help="shared data folder (default: $LATENTWATCH_DATA_DIR or ../shared/data)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds any one phase may take (default 900)")


def _say(msg: str) -> None:
    print(f"bench e2e: {msg}", file=sys.stderr, flush=True)


def _pct(values: list[float], q: float) -> float | None:
    import numpy as np

    return round(float(np.percentile(values, q)), 1) if values else None


# -- setup ----------------------------------------------------------------------------------------------------------

def resolve_artifact(cfg: Any, args: argparse.Namespace, work: Path) -> Path:
    from daemon.replay import read_manifest

    if args.artifact:
        read_manifest(args.artifact)
        return Path(args.artifact).absolute()
    if cfg.artifact.path is not None:
        return Path(cfg.artifact.path)
    from pipelines.artifact.store import resolve_current

    try:
        path = resolve_current(Path(cfg.artifact.root))
        if read_manifest(path).get("source") == "skab":
            return path
    except Exception:
        pass
    import torch

    from pipelines.sources import WindowSpec, normal_windows
    from pipelines.train import TrainSpec, fit_artifact

    torch.set_num_threads(1)
    _say(f"no SKAB artifact under {cfg.artifact.root}: training a 3-epoch one into {work / 'artifacts'} "
         "(scoring cost depends on the architecture and reference size, not on the epochs)")
    spec = WindowSpec()
    return fit_artifact(normal_windows("skab", args.data_dir, spec), work / "artifacts", TrainSpec(epochs=3),
                        progress=False, extra={"source": "skab", "window": spec.to_dict(), "normal_class": 0})


def daemon_config(base: Path, out: Path, bootstrap: str, topics: dict[str, str], group: str, artifact: Path,
                  state: Path, http_port: int, **sections: dict[str, Any]) -> Path:
    import yaml

    doc = yaml.safe_load(base.read_text()) or {}
    doc.setdefault("kafka", {}).update(bootstrap_servers=[bootstrap], input_topic=topics["input"],
                                       alert_topic=topics["alerts"], dead_letter_topic=topics["dead"],
                                       group_id=group, client_id=f"bench-{group}")
    doc["artifact"] = {"path": str(artifact), "check_interval_s": 3600}
    doc.setdefault("threshold", {})["checkpoint_path"] = str(state)
    doc.setdefault("http", {}).update(enabled=True, host="127.0.0.1", port=http_port)
    for name, values in sections.items():
        doc[name] = {**(doc.get(name) or {}), **values}
    out.write_text(f"# Written by `latentwatch bench e2e` from {base}.\n" + yaml.safe_dump(doc, sort_keys=False))
    return out


# -- the bare consumer ----------------------------------------------------------------------------------------------

def raw_consume(bootstrap: str, topic: str, n: int, security: dict[str, Any], timeout_s: float,
                consumer_settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """A bare kafka-python loop over every partition of ``topic`` from the beginning until ``n`` records are seen."""
    from kafka import KafkaConsumer, TopicPartition

    settings = {k: v for k, v in (consumer_settings or {}).items()
                if k not in ("group_id", "enable_auto_commit", "auto_offset_reset", "bootstrap_servers", "client_id")}
    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id="bench-raw", enable_auto_commit=False,
                      **{**settings, **security})
    try:
        tps = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or ())]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        seen, first = 0, None
        t0, c0 = time.perf_counter(), time.process_time()
        deadline = t0 + timeout_s
        while seen < n:
            got = c.poll(timeout_ms=100, max_records=1000)
            for recs in got.values():
                if first is None and recs:
                    first = time.perf_counter()
                seen += len(recs)
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the bare consumer saw {seen} of {n} records in {timeout_s:.0f}s")
        t1, c1 = time.perf_counter(), time.process_time()
    finally:
        c.close()
    wall = t1 - (first or t0)
    return {"records": seen, "seconds": round(wall, 3), "per_s": round(seen / wall, 1),
            "cpu_s": round(c1 - c0, 3), "per_cpu_s": round(seen / max(c1 - c0, 1e-9), 1)}


# -- throughput -----------------------------------------------------------------------------------------------------

def run_daemon_until_done(cfg_path: Path, log: Path, http_port: int, n: int, timeout_s: float,
                          profile: Path | None = None) -> dict[str, Any]:
    """Start a daemon on a topic holding ``n`` windows; time it from its first consumed record to its last commit."""
    from daemon.bench_io import DaemonProcess, metric_sum, thread_cpu

    d = DaemonProcess(cfg_path, log, http_port, profile=profile)
    d.start()
    try:
        samples: list[tuple[float, float, float, float]] = []  # (t, consumed, scored, dead)
        cpu_at_first: dict[str, float] = {}
        deadline = time.monotonic() + timeout_s
        t_first = None
        while True:
            d.check_alive()
            try:
                m = d.metrics()
            except RuntimeError:
                m = None
            now = time.perf_counter()
            if m is not None:
                consumed = metric_sum(m, "latentwatch_windows_consumed")
                scored = metric_sum(m, "latentwatch_windows_scored")
                dead = metric_sum(m, "latentwatch_dead_letters")
                samples.append((now, consumed, scored, dead))
                if t_first is None and consumed > 0:
                    t_first = samples[-2][0] if len(samples) > 1 else now  # the last sample that saw nothing
                    cpu_at_first = thread_cpu(d.pid)
                if scored + dead >= n:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"the daemon did not finish {n} windows within {timeout_s:.0f}s: {samples[-1:]}")
            time.sleep(0.1)
        cpu_end = thread_cpu(d.pid)
        t_done = samples[-1][0]
        rc = d.stop()
        if rc != 0:
            raise RuntimeError(f"the daemon exited {rc} after SIGTERM; log: {log}")
    finally:
        d.kill()
    wall = t_done - (t_first or t_done)
    cpu = {k: round(cpu_end.get(k, 0.0) - cpu_at_first.get(k, 0.0), 2) for k in cpu_end}
    return {"windows": n, "seconds": round(wall, 3), "per_s": round(n / wall, 1) if wall > 0 else None,
            "startup_to_first_record_s": round((t_first or t_done) - (samples[0][0] if samples else t_done), 2),
            "cpu_s": cpu, "per_cpu_s": round(n / cpu["total"], 1) if cpu.get("total") else None,
            "cpu_utilisation": round(cpu.get("total", 0.0) / wall, 2) if wall > 0 else None,
            "final_metrics": {"consumed": samples[-1][1], "scored": samples[-1][2], "dead_lettered": samples[-1][3]}}


# -- latency --------------------------------------------------------------------------------------------------------

class Collector(threading.Thread):
    """A bare consumer thread reading ``topic`` from its start while the latency run goes. Per record: (partition,
    offset, record timestamp ms, consumed at ms, source partition, source offset); the source is the alert's
    ``source`` for alerts (``alerts=True``), the record itself otherwise."""

    def __init__(self, bootstrap: str, topic: str, security: dict[str, Any], alerts: bool) -> None:
        super().__init__(name=f"bench-{topic}", daemon=True)
        from kafka import KafkaConsumer, TopicPartition

        self.alerts = alerts
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="bench-collector",
                                      enable_auto_commit=False, fetch_max_wait_ms=10, **security)
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


def latency_run(args: argparse.Namespace, base_cfg: Path, work: Path, bootstrap: str, security: dict[str, Any],
                artifact: Path, spec: Any, topics_made: list[str]) -> dict[str, Any]:
    from kafka import KafkaProducer

    from daemon.bench_io import DaemonProcess, ensure_topics, free_port, metric_by_label, thread_cpu
    from daemon.replay import Plan, producer_settings, replay
    from pipelines.sources import WindowStream, streams

    run_id = uuid.uuid4().hex[:8]
    topics = {"input": f"bench-e2e-{run_id}-lat-in", "alerts": f"bench-e2e-{run_id}-lat-alerts",
              "dead": f"bench-e2e-{run_id}-lat-dead"}
    ensure_topics(bootstrap, {topics["input"]: 4, topics["alerts"]: 2, topics["dead"]: 1}, security)
    topics_made += topics.values()
    a, b = LATENCY_SHIFT
    shifted = [WindowStream("lat/" + s.asset, (s.X * a + b).astype(s.X.dtype), s.y, s.ts_ms)
               for s in streams("skab", args.data_dir, spec)]
    plan = Plan.build("bench-latency", shifted)
    port = free_port()
    cfg = daemon_config(base_cfg, work / "latency.yaml", bootstrap, topics, f"bench-e2e-{run_id}-lat", artifact,
                        work / f"state-lat-{run_id}.json", port,
                        episodes={"update_every": 1, "quiet_seconds": None, "max_duration_s": None,
                                  "quiet_windows": 5})
    n = int(round(args.rate * args.duration))
    collector = Collector(bootstrap, topics["alerts"], security, alerts=True)
    raw = Collector(bootstrap, topics["input"], security, alerts=False)  # the peer: plain delivery, same process
    collector.start()
    raw.start()
    d = DaemonProcess(cfg, work / "latency-daemon.log", port)
    d.start()
    try:
        d.wait_consuming(timeout_s=300)
        cpu0 = thread_cpu(d.pid)
        producer = KafkaProducer(**producer_settings([bootstrap], security, linger_ms=0))
        try:
            _say(f"latency: {n} always-alarming windows at {args.rate:g}/s into {topics['input']}")
            rep = replay(producer, topics["input"], plan, rate=args.rate, limit=n, loop=True)
        finally:
            producer.close(timeout=30)
        if rep.errors:
            raise RuntimeError(f"the latency replay lost {rep.errors} messages: {rep.first_error}")
        deadline = time.monotonic() + args.timeout
        while (len(collector.rows) < n or len(raw.rows) < n) and time.monotonic() < deadline:
            d.check_alive()
            for c in (collector, raw):
                if c.error is not None:
                    raise RuntimeError(f"a bench consumer failed: {c.error!r}")
            time.sleep(0.2)
        cpu1 = thread_cpu(d.pid)
        m = d.metrics()
        rc = d.stop()
    finally:
        collector.stop_event.set()
        raw.stop_event.set()
        d.kill()
    collector.join(timeout=10)
    raw.join(timeout=10)
    sent = {(p, o): ts for p, o, ts, _ in raw.rows}
    delivered = [got - ts for _, _, ts, got in raw.rows]
    publish, consumed = [], []
    for p, o, alert_ts, got_ms in collector.rows:
        t_in = sent.get((p, o))
        if t_in is not None:
            publish.append(alert_ts - t_in)
            consumed.append(got_ms - t_in)
    alerts_by_event = {k: int(v) for k, v in metric_by_label(m, "latentwatch_alerts", "event").items() if v}
    cpu = {k: round(cpu1.get(k, 0.0) - cpu0.get(k, 0.0), 2) for k in cpu1}
    return {"rate": args.rate, "duration_s": args.duration, "windows": n, "achieved_rate": round(rep.rate, 1),
            "alerts": len(collector.rows), "windows_with_alert": len(publish),
            "coverage": round(len(publish) / n, 4) if n else None, "alerts_by_event": alerts_by_event,
            "publish_ms": {"p50": _pct(publish, 50), "p90": _pct(publish, 90), "p99": _pct(publish, 99),
                           "max": max(publish) if publish else None},
            "consumed_ms": {"p50": _pct(consumed, 50), "p90": _pct(consumed, 90), "p99": _pct(consumed, 99),
                            "max": round(max(consumed), 1) if consumed else None},
            "raw_delivery_ms": {"p50": _pct(delivered, 50), "p90": _pct(delivered, 90), "p99": _pct(delivered, 99),
                                "max": round(max(delivered), 1) if delivered else None},
            "daemon_cpu_s": cpu, "daemon_cpu_utilisation": round(cpu.get("total", 0) / max(rep.seconds, 1e-9), 2),
            "exit_code": rc, "topics": topics}


# -- profile --------------------------------------------------------------------------------------------------------

# (label, file suffix, function name): cumulative time of the main thread spent in each; they do not overlap except
# as noted in `profile_breakdown`.
PROFILE_PARTS = (
    ("consumer poll (fetch, CRC, record parsing)", "kafka/consumer/group.py", "poll"),
    ("decode + validate", "daemon/decode.py", "decode_batch"),
    ("dead-letter sends", "daemon/steps/decode.py", "submit"),  # minus decode_batch and the rest of the chain
    ("scoring (OnlineModel.score)", "pipelines/online.py", "score"),
    ("thresholds (ThresholdBank.process)", "pipelines/threshold/bank.py", "process"),
    ("alert policy (episodes + alert JSON)", "daemon/steps/alert_policy.py", "_window_alerts"),
    ("alert policy: watermark sweep", "daemon/steps/alert_policy.py", "_sweep"),
    ("producer sends (alerts)", "daemon/steps/sink.py", "submit"),  # minus the commit step
    ("commit: producer flush", "daemon/steps/commit.py", "_flush"),
    ("commit: offset commit", "daemon/service.py", "_commit"),
    ("metrics after commit", "daemon/service.py", "_on_committed"),
    ("batching (offsets per batch)", "daemon/batch.py", "next_offsets"),
    ("backpressure", "daemon/service.py", "_backpressure"),
    ("checkpoint", "daemon/service.py", "save_checkpoint"),
)


def profile_breakdown(prof: Path, windows: int) -> dict[str, Any]:
    import pstats

    st = pstats.Stats(str(prof))
    table = st.stats  # (file, line, func) -> (cc, nc, tt, ct, callers)

    def cum(suffix: str, func: str) -> float:
        return sum(v[3] for (f, _, fn), v in table.items() if fn == func and f.endswith(suffix))

    loop = cum("daemon/service.py", "_turn")
    parts = {label: cum(suffix, fn) for label, suffix, fn in PROFILE_PARTS}
    # nested ones: report each step's own share
    parts["dead-letter sends"] = max(0.0, parts["dead-letter sends"] - parts["decode + validate"]
                                     - cum("daemon/steps/score.py", "submit"))
    parts["producer sends (alerts)"] = max(0.0, parts["producer sends (alerts)"]
                                           - cum("daemon/steps/commit.py", "submit"))
    known = sum(parts.values())
    parts["other (loop, batcher, glue)"] = max(0.0, loop - known)
    st.calc_callees()
    roots = [key for key in table if key[2] == "_turn" and key[0].endswith("daemon/service.py")]
    under, todo = set(roots), list(roots)
    while todo:  # every function the loop reaches (start-up and imports left out)
        for callee in st.all_callees.get(todo.pop(), {}):
            if callee not in under:
                under.add(callee)
                todo.append(callee)
    top = sorted(((table[key][2], f"{Path(key[0]).name}:{key[1]}({key[2]})", table[key][1]) for key in under),
                 reverse=True)[:20]
    return {"main_thread_loop_s": round(loop, 3), "windows": windows,
            "us_per_window": {k: round(1e6 * v / windows, 1) for k, v in parts.items()},
            "share": {k: round(v / loop, 3) if loop else None for k, v in parts.items()},
            "top_self_time": [{"function": name, "self_s": round(tt, 3), "calls": calls} for tt, name, calls in top]}


# -- the command ----------------------------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    from latentwatch.config import load_config

    from daemon.bench_io import delete_topics, ensure_broker, stop_broker

    cfg = load_config(args.config)
    bootstrap = args.bootstrap or cfg.kafka.bootstrap_servers[0]
    security = cfg.kafka.security.client_kwargs()
    out = Path(args.out)
    work = (out.parent / "bench-e2e").absolute()
    work.mkdir(parents=True, exist_ok=True)
    started = ensure_broker(bootstrap, security, say=_say)
    topics_made: list[str] = []
    try:
        result = _run(args, cfg, Path(cfg.source), work, bootstrap, security, topics_made)
    finally:
        if topics_made and not args.keep_topics:
            try:
                delete_topics(bootstrap, topics_made, security)
            except Exception as e:  # noqa: BLE001 - a leftover topic is not worth failing the run
                _say(f"could not delete the benchmark's topics: {e!r}")
        if started:
            stop_broker(bootstrap)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(render(result, out))
    return 0


def _run(args: argparse.Namespace, cfg: Any, base_cfg: Path, work: Path, bootstrap: str, security: dict[str, Any],
         topics_made: list[str]) -> dict[str, Any]:
    from kafka import KafkaProducer

    from daemon.bench_io import ensure_topics, free_port
    from daemon.kafka_clients import consumer_settings
    from daemon.replay import Plan, producer_settings, read_manifest, replay
    from pipelines.sources import WindowSpec, streams

    t_start = time.perf_counter()
    artifact = resolve_artifact(cfg, args, work)
    manifest = read_manifest(artifact)
    spec = WindowSpec(**manifest["window"]) if manifest.get("window") else WindowSpec()
    run_id = uuid.uuid4().hex[:8]
    topics = {"input": f"bench-e2e-{run_id}-in", "alerts": f"bench-e2e-{run_id}-alerts",
              "dead": f"bench-e2e-{run_id}-dead"}
    ensure_topics(bootstrap, {topics["input"]: 4, topics["alerts"]: 2, topics["dead"]: 1}, security)
    topics_made += topics.values()

    # 1. produce up front
    n = args.windows
    plan = Plan.build("skab", streams("skab", args.data_dir, spec))
    producer = KafkaProducer(**producer_settings([bootstrap], security))
    try:
        _say(f"producing {n} SKAB windows into {topics['input']} (4 partitions)")
        rep = replay(producer, topics["input"], plan, limit=n, loop=True)
    finally:
        producer.close(timeout=30)
    if rep.errors:
        raise RuntimeError(f"the producer lost {rep.errors} messages: {rep.first_error}")
    produced = {"windows": rep.windows, "seconds": round(rep.seconds, 2), "per_s": round(rep.rate, 1),
                "partitions": {str(p): c for p, c in sorted(rep.partitions.items())}}

    # 2. bare consumer, daemon, bare consumer
    raw_settings = consumer_settings(cfg.kafka)
    _say("raw consume #1 (bare KafkaConsumer loop)")
    raw1 = raw_consume(bootstrap, topics["input"], n, security, args.timeout, raw_settings)
    port = free_port()
    dcfg = daemon_config(base_cfg, work / "throughput.yaml", bootstrap, topics, f"bench-e2e-{run_id}-tp", artifact,
                         work / f"state-tp-{run_id}.json", port)
    _say(f"daemon: {n} windows, one instance (config {dcfg})")
    daemon = run_daemon_until_done(dcfg, work / "throughput-daemon.log", port, n, args.timeout)
    _say("raw consume #2")
    raw2 = raw_consume(bootstrap, topics["input"], n, security, args.timeout, raw_settings)
    raw_mean = (raw1["per_s"] + raw2["per_s"]) / 2

    # 3. latency
    latency = latency_run(args, base_cfg, work, bootstrap, security, artifact, spec, topics_made)

    # 4. profile
    profile = None
    if not args.no_profile:
        prof = work / "daemon.prof"
        prof.unlink(missing_ok=True)
        port = free_port()
        pcfg = daemon_config(base_cfg, work / "profile.yaml", bootstrap, topics, f"bench-e2e-{run_id}-prof",
                             artifact, work / f"state-prof-{run_id}.json", port)
        _say(f"profile: the throughput run again under cProfile -> {prof}")
        prun = run_daemon_until_done(pcfg, work / "profile-daemon.log", port, n, args.timeout, profile=prof)
        profile = {"path": str(prof), "run": prun, **profile_breakdown(prof, n)}

    def vs(value: float | None, goal: float, higher: bool = True) -> dict[str, Any]:
        met = value is not None and (value >= goal if higher else value <= goal)
        return {"value": value, "goal": goal, "met": met, "x_goal": round(value / goal, 3) if value else None}

    ratio = round(daemon["per_s"] / raw_mean, 3) if daemon["per_s"] and raw_mean else None
    return {
        "command": "latentwatch bench e2e " + " ".join(sys.argv[3:]) if len(sys.argv) > 3 else "latentwatch bench e2e",
        "machine": {"cpus": os.cpu_count(), "load_avg_at_end": [round(x, 2) for x in os.getloadavg()]},
        "artifact": {"path": str(artifact), "version": manifest["version"], "dim": manifest.get("dim"),
                     "scorer": manifest.get("scorer"), "reference_items": manifest.get("metrics", {}).get(
                         "reference_items")},
        "config": str(base_cfg),
        "produced": produced,
        "throughput": {"daemon": daemon, "raw_before": raw1, "raw_after": raw2, "raw_mean_per_s": round(raw_mean, 1),
                       "ratio_vs_raw": ratio,
                       "ratio_per_cpu_s": round(daemon["per_cpu_s"] / ((raw1["per_cpu_s"] + raw2["per_cpu_s"]) / 2), 3)
                       if daemon.get("per_cpu_s") else None},
        "latency": latency,
        "profile": profile,
        "goals": {"windows_per_s": vs(daemon["per_s"], GOALS["windows_per_s"]),
                  "ratio_vs_raw": vs(ratio, GOALS["ratio_vs_raw"]),
                  "p99_ms_at_rate": vs(latency["publish_ms"]["p99"], GOALS["p99_ms"], higher=False),
                  "latency_rate": latency["rate"]},
        "seconds": round(time.perf_counter() - t_start, 1),
    }


def render(r: dict[str, Any], out: Path) -> str:
    tp, lat, g = r["throughput"], r["latency"], r["goals"]
    d = tp["daemon"]
    mark = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    lines = [
        "",
        f"latentwatch bench e2e ({r['machine']['cpus']} CPUs, load average at the end "
        f"{', '.join(map(str, r['machine']['load_avg_at_end']))}; artifact {r['artifact']['version']}, "
        f"{r['artifact']['reference_items']} reference items)",
        f"  produced up front   {r['produced']['windows']} windows in {r['produced']['seconds']} s "
        f"({r['produced']['per_s']:.0f}/s)",
        f"  raw consume         {tp['raw_before']['per_s']:.0f}/s before, {tp['raw_after']['per_s']:.0f}/s after "
        f"(bare KafkaConsumer; {tp['raw_before']['per_cpu_s']:.0f} and {tp['raw_after']['per_cpu_s']:.0f} per CPU s)",
        f"  daemon              {d['per_s']:.0f} windows/s ({d['windows']} in {d['seconds']} s; "
        f"{d['per_cpu_s']} per CPU s, CPU {d['cpu_s']}, utilisation {d['cpu_utilisation']})",
        f"  ratio vs raw        {tp['ratio_vs_raw']}  (per CPU s: {tp['ratio_per_cpu_s']})",
        f"  latency at {lat['rate']:g}/s   alert publish p50 {lat['publish_ms']['p50']} ms, p99 "
        f"{lat['publish_ms']['p99']} ms, max {lat['publish_ms']['max']} ms; alert consumed p50 "
        f"{lat['consumed_ms']['p50']} ms, p99 {lat['consumed_ms']['p99']} ms ({lat['windows_with_alert']} of "
        f"{lat['windows']} windows, achieved {lat['achieved_rate']:.0f}/s)",
        f"  peer: raw delivery  input consumed by a bare consumer p50 {lat['raw_delivery_ms']['p50']} ms, p99 "
        f"{lat['raw_delivery_ms']['p99']} ms (same process as the alert consumer, same time)",
        f"  goals               windows/s {g['windows_per_s']['value']} vs {g['windows_per_s']['goal']:.0f}: "
        f"{mark(g['windows_per_s']['met'])}; ratio {g['ratio_vs_raw']['value']} vs {g['ratio_vs_raw']['goal']}: "
        f"{mark(g['ratio_vs_raw']['met'])}; p99 {g['p99_ms_at_rate']['value']} ms vs "
        f"{g['p99_ms_at_rate']['goal']:.0f} ms: {mark(g['p99_ms_at_rate']['met'])}",
    ]
    p = r.get("profile")
    if p:
        lines.append(f"  profile (cProfile, main thread, {p['run']['per_s']:.0f} windows/s under the profiler):")
        for k, v in sorted(p["us_per_window"].items(), key=lambda kv: -kv[1]):
            lines.append(f"    {k:<44} {v:>8.1f} us/window  {100 * (p['share'][k] or 0):5.1f}%")
        lines.append("  top self time: " + "; ".join(f"{t['function']} {t['self_s']}s"
                                                     for t in p["top_self_time"][:8]))
    lines += [f"  JSON: {out}", ""]
    return "\n".join(lines)
