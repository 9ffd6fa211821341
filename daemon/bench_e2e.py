"""`latentwatch bench e2e`: the daemon end to end through the real broker, next to a bare kafka-python consumer.

    latentwatch bench e2e                                   # 100k windows, 2,000/s for 30 s, a profiled pass
    latentwatch bench e2e --windows 2000 --rate 200 --duration 3 --no-profile    # the smoke test's size

Three measurements, each on its own topics (4 input partitions) and its own consumer group, one daemon instance
(``python -m latentwatch run --config FILE``, a child process, ``OMP_NUM_THREADS=1``):

1. **throughput**: ``--windows`` SKAB windows (the labelled runs, looped) are produced up front with the replay
   producer (``daemon.replay.replay``). Then, on the same topic: a bare ``KafkaConsumer`` loop (assign, seek to the
   beginning, ``poll(max_records=1000)`` until every record is seen: no decoding) -> raw records/s; the daemon from
   an empty group until its committed offsets reach the end offsets -> windows/s (from the first record it consumed
   to the last commit, sampled from its /metrics every 0.25 s); the bare loop again. ratio = daemon / mean of the two
   bare runs, so a change of load on a shared machine during the run shows up as a gap between the two bare runs.
   The daemon's config is ``--config`` (default conf/local.yaml: batches of 1000, linger 5 ms, DSPOT) with only the
   topics, group, artifact, checkpoint path and HTTP port replaced. Also reported: the daemon's CPU seconds
   (main thread vs kafka-python's background threads, from /proc) and windows per CPU second.
2. **latency**, twice, each with a fresh daemon; the replay producer sends at ``--rate`` windows/s for
   ``--duration`` s once the daemon reports healthy:
   a. *every window alerting* (the method the goal is stated for): the SKAB windows are shifted far out of the
      normal range (``x * 50 + 100``; their ARES scores sit about 80x above the threshold), the threshold is
      SPOT (DSPOT's ``absorb_after`` would take a persistent shift into its baseline and stop alarming) and
      ``episodes.update_every: 1``, so each window publishes one alert (an asset's first ``open``, the rest
      ``update``). Latency of a window = the alert record's timestamp (CreateTime, stamped by the daemon's producer in
      ``send()``) minus the input record's timestamp (stamped by the replay's producer in ``send()``), joined on the
      alert's ``source`` (partition, offset); one clock (this machine), 1 ms resolution. Every alert is one more
      produced message and one more log line: the alert path's worst case.
   b. *ordinary traffic*: the SKAB windows as they are with the config's thresholds (few alerts); latency = the
      moment the bench first sees the window's offset committed (the group's offsets polled every 10 ms) minus the
      input timestamp. The daemon commits only after the batch's alerts are acknowledged, so this bounds
      produce-to-alert for every window, alerted or not.
   Peer, same run: a bare consumer thread reading the same input topic; its delivery latency (consumed - input
   timestamp) is what Kafka and this machine's load cost before the daemon does anything.
3. **profile** (``--no-profile`` to skip): the throughput run again under cProfile (``python -m cProfile -m
   latentwatch run``) on the same topic with a new group; the main thread's time split into consumer poll, decode,
   scoring, thresholds, alert policy, producer sends, commit (flush + offset commit), metrics, and the rest. cProfile
   slows Python code down (kafka-python's record parsing most), so its windows/s is not the throughput number and
   its shares lean towards Python-heavy parts. When py-spy is installed (``--py-spy``), a fourth pass is sampled by
   it (every thread, 200 Hz, no instrumentation): CPU microseconds per window per part, background threads included.

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
    p.add_argument("--no-profile", action="store_true", help="skip the profiled passes")
    p.add_argument("--no-latency", action="store_true", help="skip the two latency runs (throughput only)")
    p.add_argument("--no-binary", action="store_true",
                   help="skip the throughput run on the same windows in the compact binary encoding")
    p.add_argument("--py-spy", choices=("auto", "yes", "no"), default="auto",
                   help="also profile a pass with the py-spy sampler, every thread, no instrumentation overhead "
                        "(auto: when py-spy is installed, e.g. `uv pip install py-spy`)")
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
                          profile: Path | None = None, py_spy: tuple[str, Path] | None = None) -> dict[str, Any]:
    """Start a daemon on a topic holding ``n`` windows; time it from its first consumed record to its last commit.
    ``py_spy``: (py-spy executable, output file): sample the daemon (every thread, 200 Hz) while it runs."""
    import subprocess

    from daemon.bench_io import DaemonProcess, metric_sum, thread_cpu

    log.unlink(missing_ok=True)
    d = DaemonProcess(cfg_path, log, http_port, profile=profile)
    d.start()
    spy = None
    if py_spy is not None:
        spy = subprocess.Popen([py_spy[0], "record", "--pid", str(d.pid), "--rate", "200", "--format", "raw",
                                "--nonblocking", "--full-filenames", "--output", str(py_spy[1])],
                               stdout=subprocess.DEVNULL, stderr=open(str(py_spy[1]) + ".log", "w"))
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
            _check_stall(samples, d, log)
            time.sleep(0.25)  # /metrics costs the daemon CPU (its HTTP thread): 4 Hz keeps that under 1%
        cpu_end = thread_cpu(d.pid)
        t_done = samples[-1][0]
        rc = d.stop()
        if rc != 0:
            raise RuntimeError(f"the daemon exited {rc} after SIGTERM; log: {log}")
    finally:
        d.kill()
        if spy is not None:
            try:
                spy.wait(timeout=60)  # py-spy writes its file when the process it samples exits
            except subprocess.TimeoutExpired:
                spy.kill()
    wall = t_done - (t_first or t_done)
    cpu = {k: round(cpu_end.get(k, 0.0) - cpu_at_first.get(k, 0.0), 2) for k in cpu_end}
    return {"windows": n, "seconds": round(wall, 3), "per_s": round(n / wall, 1) if wall > 0 else None,
            "startup_to_first_record_s": round((t_first or t_done) - (samples[0][0] if samples else t_done), 2),
            "cpu_s": cpu, "per_cpu_s": round(n / cpu["total"], 1) if cpu.get("total") else None,
            "cpu_utilisation": round(cpu.get("total", 0.0) / wall, 2) if wall > 0 else None,
            "final_metrics": {"consumed": samples[-1][1], "scored": samples[-1][2], "dead_lettered": samples[-1][3]}}


STALL_S = 60.0
REJOIN_STALL_EVENT = "group_rejoin_stalled_recreating_consumer"  # daemon/service.py logs it


class Stalled(RuntimeError):
    """The daemon made no progress for STALL_S seconds (seen after a rebalance right after its first join)."""


def _check_stall(samples: list[tuple[float, float, float, float]], d: Any, log: Path) -> None:
    """Fail fast (instead of waiting out the timeout) when the daemon has made no progress for STALL_S seconds."""
    if len(samples) < 2 or samples[-1][0] - samples[0][0] < STALL_S:
        return
    now, consumed = samples[-1][0], samples[-1][1]
    since = next((t for t, c, _, _ in reversed(samples) if c != consumed), samples[0][0])
    if now - since >= STALL_S:
        h = d.health()
        raise Stalled(f"the daemon stalled: {consumed:.0f} windows consumed and no progress for "
                           f"{now - since:.0f}s (/healthz: {h}); daemon log: {log}")


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
        from daemon.bench_io import admin_client, committed

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


def _over_time(sent_ms: list[float], latency_ms: list[float], warmup_s: float = 5.0) -> dict[str, Any]:
    """Where in the run the slow windows were: the distribution without the first ``warmup_s`` seconds of input, and
    the five seconds of input with the highest maximum latency (seconds since the first window)."""
    if not sent_ms:
        return {}
    t0 = min(sent_ms)
    steady = [lat for t, lat in zip(sent_ms, latency_ms) if t - t0 >= warmup_s * 1000]
    worst: dict[int, float] = {}
    for t, lat in zip(sent_ms, latency_ms):
        sec = int((t - t0) // 1000)
        worst[sec] = max(worst.get(sec, lat), lat)
    top = sorted(worst.items(), key=lambda kv: -kv[1])[:5]
    return {"latency_ms_after_warmup": {"skip_s": warmup_s, **_dist(steady)},
            "worst_seconds": [{"second": sec, "max_ms": round(v, 1)} for sec, v in top]}


def _dist(values: list[float]) -> dict[str, Any]:
    return {"p50": _pct(values, 50), "p90": _pct(values, 90), "p99": _pct(values, 99),
            "max": round(max(values), 1) if values else None}


ALERT_EVERY_WINDOW = {"threshold": {"method": "spot"},
                      "episodes": {"update_every": 1, "quiet_seconds": None, "max_duration_s": None,
                                   "quiet_windows": 5}}


def alert_plan(args: argparse.Namespace, spec: Any) -> Any:
    """The SKAB windows shifted far out of the normal range: every one alarms (see the module doc)."""
    from daemon.replay import Plan
    from pipelines.sources import WindowStream, streams

    a, b = LATENCY_SHIFT
    return Plan.build("bench-latency", [WindowStream("lat/" + s.asset, (s.X * a + b).astype(s.X.dtype), s.y, s.ts_ms)
                                        for s in streams("skab", args.data_dir, spec)])


def _make_topics(bootstrap: str, security: dict[str, Any], run_id: str, tag: str, topics_made: list[str]) -> dict:
    """A phase's own input (4 partitions), alert and dead-letter topics, remembered for deletion at the end."""
    from daemon.bench_io import ensure_topics

    topics = {"input": f"bench-e2e-{run_id}{tag}-in", "alerts": f"bench-e2e-{run_id}{tag}-alerts",
              "dead": f"bench-e2e-{run_id}{tag}-dead"}
    ensure_topics(bootstrap, {topics["input"]: 4, topics["alerts"]: 2, topics["dead"]: 1}, security)
    topics_made += topics.values()
    return topics


def _produce_up_front(bootstrap: str, security: dict[str, Any], topic: str, plan: Any, n: int, **kw: Any) -> Any:
    """``n`` windows of ``plan`` (looped) into ``topic``, all acknowledged before this returns."""
    from kafka import KafkaProducer

    from daemon.replay import producer_settings, replay

    producer = KafkaProducer(**producer_settings([bootstrap], security))
    try:
        rep = replay(producer, topic, plan, limit=n, loop=True, **kw)
    finally:
        producer.close(timeout=30)
    if rep.errors:
        raise RuntimeError(f"the producer lost {rep.errors} messages: {rep.first_error}")
    return rep


def alert_path_profile(args: argparse.Namespace, base_cfg: Path, work: Path, bootstrap: str,
                       security: dict[str, Any], artifact: Path, spec: Any, topics_made: list[str],
                       spy_bin: str) -> dict[str, Any] | None:
    """Where the CPU of the alert path goes: up to 30,000 always-alarming windows produced up front, one daemon
    consuming them all under py-spy (as the throughput pass, with the every-window-alerting config)."""
    from daemon.bench_io import free_port

    n = min(args.windows, 30_000)
    run_id = uuid.uuid4().hex[:8]
    topics = _make_topics(bootstrap, security, run_id, "-ap", topics_made)
    _produce_up_front(bootstrap, security, topics["input"], alert_plan(args, spec), n)
    raw = work / "daemon-alert-path.py-spy.txt"
    raw.unlink(missing_ok=True)
    port = free_port()
    cfg = daemon_config(base_cfg, work / "alert-path.yaml", bootstrap, topics, f"bench-e2e-{run_id}-ap", artifact,
                        work / f"state-ap-{run_id}.json", port, **ALERT_EVERY_WINDOW)
    _say(f"profile: {n} always-alarming windows through one daemon under py-spy -> {raw}")
    run = run_daemon_until_done(cfg, work / "alert-path-daemon.log", port, n, args.timeout, py_spy=(spy_bin, raw))
    if not raw.is_file():
        return None
    sampled = sampled_breakdown(raw, n)
    return {"path": str(raw), "run": run, **sampled, "cpu_us_per_window": cpu_by_part(sampled, run["cpu_s"], n)}


def latency_run(args: argparse.Namespace, base_cfg: Path, work: Path, bootstrap: str, security: dict[str, Any],
                artifact: Path, spec: Any, topics_made: list[str], mode: str = "alert") -> dict[str, Any]:
    """``mode="alert"``: every window alarms and publishes an alert; latency = alert timestamp - input timestamp.
    ``mode="commit"``: the SKAB windows as they are, the config's thresholds and episodes (few alerts); latency =
    when the bench first saw the window's offset committed (polled every 10 ms) - input timestamp. The daemon
    commits a batch only after its alerts are acknowledged, so this bounds produce-to-alert for every window."""
    from kafka import KafkaProducer

    from daemon.bench_io import DaemonProcess, ensure_topics, free_port, metric_by_label, thread_cpu
    from daemon.replay import Plan, producer_settings, replay
    from pipelines.sources import streams

    run_id = uuid.uuid4().hex[:8]
    topics = {"input": f"bench-e2e-{run_id}-{mode}-in", "alerts": f"bench-e2e-{run_id}-{mode}-alerts",
              "dead": f"bench-e2e-{run_id}-{mode}-dead"}
    ensure_topics(bootstrap, {topics["input"]: 4, topics["alerts"]: 2, topics["dead"]: 1}, security)
    topics_made += topics.values()
    group = f"bench-e2e-{run_id}-{mode}"
    port = free_port()
    if mode == "alert":
        plan = alert_plan(args, spec)
        # SPOT, not DSPOT: DSPOT's absorb_after lets a persistent level shift into its moving average, after which
        # the shifted windows stop alarming; SPOT never takes an alarm into its model, so every window alarms.
        cfg = daemon_config(base_cfg, work / f"latency-{mode}.yaml", bootstrap, topics, group, artifact,
                            work / f"state-{mode}-{run_id}.json", port, **ALERT_EVERY_WINDOW)
    else:
        plan = Plan.build("skab", streams("skab", args.data_dir, spec))
        cfg = daemon_config(base_cfg, work / f"latency-{mode}.yaml", bootstrap, topics, group, artifact,
                            work / f"state-{mode}-{run_id}.json", port)
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
            _say(f"latency ({mode}): {n} {what} at {args.rate:g}/s into {topics['input']}")
            rep = replay(producer, topics["input"], plan, rate=args.rate, limit=n, loop=True)
        finally:
            producer.close(timeout=30)
        if rep.errors:
            raise RuntimeError(f"the latency replay lost {rep.errors} messages: {rep.first_error}")
        deadline = time.monotonic() + args.timeout

        from daemon.bench_io import metric_sum

        last_rows = [0, time.monotonic()]

        def done(m: dict[str, float] | None) -> bool:
            if len(raw.rows) < n or m is None:
                return False
            if mode == "commit":
                return bool(poller.samples) and sum(poller.samples[-1][1].values()) >= n
            if len(collector.rows) != last_rows[0]:
                last_rows[:] = [len(collector.rows), time.monotonic()]
            finished = metric_sum(m, "latentwatch_windows_scored") + metric_sum(m, "latentwatch_dead_letters") >= n
            # every window alerts; should some not, stop once the daemon is done and no alert came for 3 s
            return finished and (len(collector.rows) >= n or time.monotonic() - last_rows[1] > 3)

        progress: list[tuple[float, float, float, float]] = []
        while True:
            d.check_alive()
            for t in threads:
                if t.error is not None:
                    raise RuntimeError(f"a bench consumer failed: {t.error!r}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"latency ({mode}): not every window came through within {args.timeout:.0f}s; "
                                   f"daemon log: {d.log}")
            try:
                m = d.metrics()
            except RuntimeError:
                m = None
            if done(m):
                break
            if m is not None:  # progress = anything moving: consumed, scored, alerts seen
                progress.append((time.perf_counter(), metric_sum(m, "latentwatch_windows_consumed")
                                 + metric_sum(m, "latentwatch_windows_scored") + len(collector.rows), 0, 0))
            _check_stall(progress, d, d.log)
            time.sleep(0.25)
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
        raise Stalled(f"the daemon's group rejoin stalled and it replaced its consumer (no partitions for 15 s, so "
                      f"the latencies measure that); daemon log: {d.log}")
    sent = {(p, o): ts for p, o, ts, _ in raw.rows}
    delivered = [got - ts for _, _, ts, got in raw.rows]
    publish, consumed, at = [], [], []
    for p, o, alert_ts, got_ms in collector.rows:
        t_in = sent.get((p, o))
        if t_in is not None:
            publish.append(alert_ts - t_in)
            consumed.append(got_ms - t_in)
            at.append(t_in)
    commit = []
    if poller is not None:
        for (p, o), ts in sent.items():
            seen = poller.seen_committed(p, o)
            if seen is not None:
                commit.append(seen - ts)
                at.append(ts)
    alerts_by_event = {k: int(v) for k, v in metric_by_label(m, "latentwatch_alerts", "event").items() if v}
    cpu = {k: round(cpu1.get(k, 0.0) - cpu0.get(k, 0.0), 2) for k in cpu1}
    measured = publish if mode == "alert" else commit
    out = {"mode": mode, "rate": args.rate, "duration_s": args.duration, "windows": n,
           "achieved_rate": round(rep.rate, 1), "alerts": len(collector.rows), "alerts_by_event": alerts_by_event,
           "windows_measured": len(measured), "coverage": round(len(measured) / n, 4) if n else None,
           "latency_ms": _dist(measured), "raw_delivery_ms": _dist(delivered),
           "daemon_cpu_s": cpu, "daemon_cpu_us_per_window": round(1e6 * cpu.get("total", 0) / n, 1) if n else None,
           "exit_code": rc, "topics": topics}
    out.update(_over_time(at, measured))
    out["batches_committed_within_s"] = metric_by_label(m, "latentwatch_batch_latency_seconds_bucket", "le")
    if mode == "alert":
        out["alert_consumed_ms"] = _dist(consumed)
    else:
        out["commit_poll_interval_ms"] = 10
        out["commit_polls"] = len(poller.samples)
    return out


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


# For the sampler: (label, file suffix, function), the innermost match on a stack wins, so each sample counts once.
SAMPLE_PARTS = (
    ("consumer poll (fetch, CRC, record parsing)", "kafka/consumer/group.py", "poll"),
    ("dead-letter sends", "daemon/steps/decode.py", "submit"),
    ("decode + validate", "daemon/decode.py", "decode_batch"),
    ("scoring (OnlineModel.score)", "pipelines/online.py", "score"),
    ("thresholds (ThresholdBank.process)", "pipelines/threshold/bank.py", "process"),
    ("alert policy (episodes + alert JSON)", "daemon/steps/alert_policy.py", "_window_alerts"),
    ("alert policy: watermark sweep", "daemon/steps/alert_policy.py", "_sweep"),
    ("producer sends (alerts)", "daemon/steps/sink.py", "submit"),
    ("commit: producer flush", "daemon/steps/commit.py", "_flush"),
    ("commit: offset commit", "daemon/service.py", "_commit"),
    ("metrics after commit", "daemon/service.py", "_on_committed"),
    ("batching (offsets per batch)", "daemon/batch.py", "next_offsets"),
    ("backpressure", "daemon/service.py", "_backpressure"),
    ("checkpoint", "daemon/service.py", "save_checkpoint"),
    # inside the alert policy
    ("alert policy: episode tracker", "pipelines/alerts/episodes.py", "observe"),
    ("alert policy: episode fields", "pipelines/alerts/episodes.py", "alert_fields"),
    ("alert policy: alert JSON (build_alert)", "daemon/alerts.py", "build_alert"),
    ("log lines (structlog, JSON to stderr)", "/structlog/", "*"),
)


def _frame_matches(frame: str, suffix: str, func: str) -> bool:
    # py-spy frames read "Class.function (/path/to/file.py:line)" (--full-filenames); func "*": any function of a
    # file whose path contains ``suffix``
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    if func == "*":
        return suffix in path
    return name.rsplit(".", 1)[-1] == func and path.endswith(suffix)


_WAITING = ("select", "wait", "_wait_for_tstate_lock", "acquire", "sleep", "accept", "recv_into")
BACKGROUND = ("kafka-python threads (network IO, producer sender, heartbeat)",
              "worker threads (native code, e.g. the reference search's pool)", "http server thread")


def _waiting(frame: str) -> bool:
    name = frame.partition(" (")[0].rsplit(".", 1)[-1]
    return name in _WAITING


def sampled_breakdown(raw: Path, windows: int) -> dict[str, Any]:
    """CPU per window by part, from py-spy's samples (``--format raw``: one "frame;frame;... count" line per stack,
    root first). py-spy ``--nonblocking`` cannot tell a waiting thread from a running one, so a sample whose innermost
    frame is a wait (select, Condition.wait, lock acquire, sleep) counts as waiting, not CPU. Samples in the main
    loop go to the innermost named part; other threads by what they run; start-up (imports, model load) apart."""
    counts: dict[str, int] = {label: 0 for label, _, _ in SAMPLE_PARTS}
    counts.update({"other in the loop (batcher, glue)": 0, **{b: 0 for b in BACKGROUND},
                   "start-up and shutdown (imports, model load, drain)": 0})
    waiting = {"main loop waiting (IO thread, worker threads)": 0, "other threads waiting": 0}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        frames, n = [f for f in stack.split(";") if f.strip()], int(n)
        total += n
        in_loop = any(_frame_matches(f, "daemon/service.py", "_turn") for f in frames)
        is_thread = any("threading.py" in f and "_bootstrap" in f for f in frames[:2])
        if frames and _waiting(frames[-1]):
            waiting["main loop waiting (IO thread, worker threads)" if in_loop else "other threads waiting"] += n
            continue
        if in_loop:
            label = "other in the loop (batcher, glue)"
            for f in frames:  # root first: the last match is the innermost
                for part, suffix, func in SAMPLE_PARTS:
                    if _frame_matches(f, suffix, func):
                        label = part
            counts[label] += n
        elif is_thread or not frames:
            joined = ";".join(frames)
            counts[BACKGROUND[0] if "/kafka/" in joined else BACKGROUND[2] if "socketserver" in joined
                   else BACKGROUND[1]] += n
        else:
            counts["start-up and shutdown (imports, model load, drain)"] += n
    loop_parts = [label for label, _, _ in SAMPLE_PARTS] + ["other in the loop (batcher, glue)"]
    loop_total = sum(counts[k] for k in loop_parts)
    # A sample is wall time in which the thread was alive and not waiting: on a busy machine that includes time it
    # was runnable but not scheduled, so the absolute numbers are wall, not CPU; the shares are what to read.
    return {"samples": total, "rate_hz": 200, "windows": windows,
            "share_of_loop": {k: round(counts[k] / loop_total, 3) for k in loop_parts} if loop_total else {},
            "sampled_us_per_window": {k: round(1e6 * v / 200 / windows, 1) for k, v in counts.items()},
            "waiting_us_per_window": {k: round(1e6 * v / 200 / windows, 1) for k, v in waiting.items()}}


def cpu_by_part(sampled: dict[str, Any], cpu_s: dict[str, float], windows: int) -> dict[str, float]:
    """CPU microseconds per window by part: the main thread's CPU (from /proc) split by the sampled shares of the
    loop, plus the other threads' CPU as one line."""
    main_us = 1e6 * cpu_s.get("main", 0.0) / windows
    out = {k: round(v * main_us, 1) for k, v in sampled["share_of_loop"].items()}
    other_us = 1e6 * cpu_s.get("other", 0.0) / windows
    seen = {k: sampled["sampled_us_per_window"].get(k, 0.0) for k in BACKGROUND}
    for k, v in seen.items():  # the other threads' CPU, split by their sampled shares
        out[k] = round(other_us * v / sum(seen.values()), 1) if sum(seen.values()) else 0.0
    if not sum(seen.values()):
        out["other threads"] = round(other_us, 1)
    return out


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


def _retry_stalled(phase: Any) -> dict[str, Any]:
    """Run a latency phase; if its daemon stalls, once more with fresh topics and a fresh daemon. The stall is kept
    in the result (``stalled_attempts``): it is a daemon bug to fix, not noise to hide."""
    stalls = []
    for attempt in (1, 2):
        try:
            result = phase()
        except Stalled as e:
            stalls.append(str(e))
            _say(f"{e}; the daemon log is kept as {_keep_log(e)}; retrying the phase with a fresh daemon"
                 if attempt == 1 else str(e))
            if attempt == 2:
                raise
            continue
        result["stalled_attempts"] = stalls
        return result
    raise AssertionError("unreachable")


def _keep_log(e: Exception) -> str:
    import shutil

    log = Path(str(e).rsplit("daemon log: ", 1)[-1])
    kept = log.with_name(log.stem + f"-stalled-{int(time.time())}.log")
    try:
        shutil.copy(log, kept)
    except OSError:
        return str(log)
    return str(kept)


def _git_state() -> dict[str, Any]:
    """The commit measured, and the files that differed from it (numbers from a dirty tree say so)."""
    import subprocess

    def git(*a: str) -> str:
        try:
            return subprocess.run(["git", *a], capture_output=True, text=True, timeout=30).stdout.rstrip()
        except (OSError, subprocess.SubprocessError):
            return ""

    changed = [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()]
    return {"commit": git("rev-parse", "--short", "HEAD").strip() or None, "modified": changed}


def _py_spy(choice: str) -> str | None:
    import shutil

    if choice == "no":
        return None
    found = shutil.which("py-spy") or next((str(p) for p in [Path(sys.executable).parent / "py-spy"] if p.is_file()),
                                           None)
    if found is None and choice == "yes":
        raise RuntimeError("--py-spy yes, but py-spy is not installed (uv pip install py-spy)")
    return found


# -- the command ----------------------------------------------------------------------------------------------------

def binary_throughput(args: argparse.Namespace, cfg: Any, base_cfg: Path, work: Path, bootstrap: str,
                      security: dict[str, Any], artifact: Path, plan: Any, run_id: str, topics_made: list[str],
                      raw_settings: dict[str, Any]) -> dict[str, Any]:
    """The throughput run again on the same windows in the compact binary encoding (own topics and group), with
    its own bare-consumer peer, so the two encodings compare within one run."""
    from daemon.bench_io import free_port

    topics = _make_topics(bootstrap, security, run_id, "-bin", topics_made)
    _say(f"binary encoding: producing {args.windows} windows into {topics['input']}")
    rep = _produce_up_front(bootstrap, security, topics["input"], plan, args.windows, encoding="binary")
    raw = raw_consume(bootstrap, topics["input"], args.windows, security, args.timeout, raw_settings)
    port = free_port()
    dcfg = daemon_config(base_cfg, work / "binary.yaml", bootstrap, topics, f"bench-e2e-{run_id}-bin", artifact,
                         work / f"state-bin-{run_id}.json", port)
    _say("binary encoding: daemon")
    daemon = run_daemon_until_done(dcfg, work / "binary-daemon.log", port, args.windows, args.timeout)
    return {"produced_per_s": round(rep.rate, 1), "raw": raw, "daemon": daemon,
            "ratio_vs_raw": round(daemon["per_s"] / raw["per_s"], 3) if daemon["per_s"] and raw["per_s"] else None}


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
    binary = None if args.no_binary else binary_throughput(args, cfg, base_cfg, work, bootstrap, security, artifact,
                                                           plan, run_id, topics_made, raw_settings)

    # 3. latency: every window alerting, then ordinary traffic measured at the commit
    latency = latency_commit = None
    if not args.no_latency:
        latency = _retry_stalled(lambda: latency_run(args, base_cfg, work, bootstrap, security, artifact, spec,
                                                     topics_made, mode="alert"))
        latency_commit = _retry_stalled(lambda: latency_run(args, base_cfg, work, bootstrap, security, artifact,
                                                            spec, topics_made, mode="commit"))

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
        spy_bin = _py_spy(args.py_spy)
        if spy_bin:
            raw = work / "daemon.py-spy.txt"
            raw.unlink(missing_ok=True)
            port = free_port()
            scfg = daemon_config(base_cfg, work / "py-spy.yaml", bootstrap, topics, f"bench-e2e-{run_id}-spy",
                                 artifact, work / f"state-spy-{run_id}.json", port)
            _say(f"profile: the throughput run again under py-spy (every thread, 200 Hz) -> {raw}")
            srun = run_daemon_until_done(scfg, work / "py-spy-daemon.log", port, n, args.timeout,
                                         py_spy=(spy_bin, raw))
            if raw.is_file():
                sampled = sampled_breakdown(raw, n)
                profile["sampled"] = {"path": str(raw), "run": srun, **sampled,
                                      "cpu_us_per_window": cpu_by_part(sampled, srun["cpu_s"], n)}
            else:
                _say(f"py-spy wrote nothing; see {raw}.log")
            profile["sampled_alert_path"] = alert_path_profile(args, base_cfg, work, bootstrap, security, artifact,
                                                               spec, topics_made, spy_bin)

    def vs(value: float | None, goal: float, higher: bool = True) -> dict[str, Any]:
        met = value is not None and (value >= goal if higher else value <= goal)
        return {"value": value, "goal": goal, "met": met, "x_goal": round(value / goal, 3) if value else None}

    ratio = round(daemon["per_s"] / raw_mean, 3) if daemon["per_s"] and raw_mean else None
    return {
        "command": " ".join(["latentwatch bench e2e", *(sys.argv[sys.argv.index("e2e") + 1:] if "e2e" in sys.argv
                                                        else sys.argv[1:])]),
        "machine": {"cpus": os.cpu_count(), "load_avg_at_end": [round(x, 2) for x in os.getloadavg()]},
        "code": _git_state(),
        "artifact": {"path": str(artifact), "version": manifest["version"], "dim": manifest.get("dim"),
                     "scorer": manifest.get("scorer"), "reference_items": manifest.get("metrics", {}).get(
                         "reference_items")},
        "config": str(base_cfg),
        "produced": produced,
        "throughput": {"daemon": daemon, "raw_before": raw1, "raw_after": raw2, "raw_mean_per_s": round(raw_mean, 1),
                       "ratio_vs_raw": ratio,
                       "ratio_per_cpu_s": round(daemon["per_cpu_s"] / ((raw1["per_cpu_s"] + raw2["per_cpu_s"]) / 2), 3)
                       if daemon.get("per_cpu_s") else None},
        "binary": binary,
        "latency": latency,
        "latency_commit": latency_commit,
        "profile": profile,
        "goals": {"windows_per_s": vs(daemon["per_s"], GOALS["windows_per_s"]),
                  "ratio_vs_raw": vs(ratio, GOALS["ratio_vs_raw"]),
                  "p99_ms_at_rate": vs(latency and latency["latency_ms"]["p99"], GOALS["p99_ms"], higher=False),
                  "p99_ms_at_rate_commit": vs(latency_commit and latency_commit["latency_ms"]["p99"],
                                              GOALS["p99_ms"], higher=False),
                  "latency_rate": args.rate},
        "seconds": round(time.perf_counter() - t_start, 1),
    }


def render(r: dict[str, Any], out: Path) -> str:
    tp, lat, lc, g, b = r["throughput"], r["latency"], r["latency_commit"], r["goals"], r.get("binary")
    d = tp["daemon"]
    mark = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    lines = [
        "",
        f"latentwatch bench e2e (commit {r['code']['commit']}"
        f"{', modified: ' + ', '.join(r['code']['modified']) if r['code']['modified'] else ''}; "
        f"{r['machine']['cpus']} CPUs, load average at the end "
        f"{', '.join(map(str, r['machine']['load_avg_at_end']))}; artifact {r['artifact']['version']}, "
        f"{r['artifact']['reference_items']} reference items)",
        f"  produced up front   {r['produced']['windows']} windows in {r['produced']['seconds']} s "
        f"({r['produced']['per_s']:.0f}/s)",
        f"  raw consume         {tp['raw_before']['per_s']:.0f}/s before, {tp['raw_after']['per_s']:.0f}/s after "
        f"(bare KafkaConsumer; {tp['raw_before']['per_cpu_s']:.0f} and {tp['raw_after']['per_cpu_s']:.0f} per CPU s)",
        f"  daemon              {d['per_s']:.0f} windows/s ({d['windows']} in {d['seconds']} s; "
        f"{d['per_cpu_s']} per CPU s, CPU {d['cpu_s']}, utilisation {d['cpu_utilisation']})",
        f"  ratio vs raw        {tp['ratio_vs_raw']}  (per CPU s: {tp['ratio_per_cpu_s']})",
    ]
    if b:
        lines.append(f"  binary encoding     daemon {b['daemon']['per_s']:.0f} windows/s ({b['daemon']['per_cpu_s']} per "
                     f"CPU s) vs bare consumer {b['raw']['per_s']:.0f}/s: ratio {b['ratio_vs_raw']}; JSON above "
                     f"{d['per_s']:.0f}/s ({d['per_cpu_s']} per CPU s)")
    if lat and lc:
        lines += [
            f"  latency at {lat['rate']:g}/s, every window alerting: produce -> alert published p50 "
            f"{lat['latency_ms']['p50']} ms, p99 {lat['latency_ms']['p99']} ms, max {lat['latency_ms']['max']} ms "
            f"({lat['windows_measured']} of {lat['windows']} windows; {lat['daemon_cpu_us_per_window']} us CPU/window)",
            f"  latency at {lc['rate']:g}/s, SKAB as is: produce -> offset committed p50 {lc['latency_ms']['p50']} ms, "
            f"p99 {lc['latency_ms']['p99']} ms, max {lc['latency_ms']['max']} ms ({lc['windows_measured']} of "
            f"{lc['windows']} windows; {lc['daemon_cpu_us_per_window']} us CPU/window)",
            f"  after the first 5 s: p99 {lat['latency_ms_after_warmup']['p99']} / "
            f"{lc['latency_ms_after_warmup']['p99']} ms; slowest seconds of input (alert run): "
            + ", ".join(f"{w['second']} s: {w['max_ms']:.0f} ms" for w in lat["worst_seconds"]),
            f"  peer: raw delivery  a bare consumer of the same input, same time: p50 {lat['raw_delivery_ms']['p50']} / "
            f"{lc['raw_delivery_ms']['p50']} ms, p99 {lat['raw_delivery_ms']['p99']} / {lc['raw_delivery_ms']['p99']} ms",
        ]
    lines += [
        f"  goals               windows/s {g['windows_per_s']['value']} vs {g['windows_per_s']['goal']:.0f}: "
        f"{mark(g['windows_per_s']['met'])}; ratio {g['ratio_vs_raw']['value']} vs {g['ratio_vs_raw']['goal']}: "
        f"{mark(g['ratio_vs_raw']['met'])}; p99 {g['p99_ms_at_rate']['value']} ms vs "
        f"{g['p99_ms_at_rate']['goal']:.0f} ms: {mark(g['p99_ms_at_rate']['met'])} (ordinary traffic, at the "
        f"commit: {g['p99_ms_at_rate_commit']['value']} ms: {mark(g['p99_ms_at_rate_commit']['met'])})",
    ]
    p = r.get("profile")
    if p:
        lines.append(f"  profile (cProfile, main thread, {p['run']['per_s']:.0f} windows/s under the profiler):")
        for k, v in sorted(p["us_per_window"].items(), key=lambda kv: -kv[1]):
            lines.append(f"    {k:<44} {v:>8.1f} us/window  {100 * (p['share'][k] or 0):5.1f}%")
        lines.append("  top self time: " + "; ".join(f"{t['function']} {t['self_s']}s"
                                                     for t in p["top_self_time"][:8]))
        sp = p.get("sampled")
        if sp:
            lines.append(f"  profile (py-spy shares x main-thread CPU from /proc; {sp['run']['per_s']:.0f} windows/s "
                         f"while sampled; {sp['samples']} samples; {sp['run']['per_cpu_s']} windows per CPU s):")
            for k, v in sorted(sp["cpu_us_per_window"].items(), key=lambda kv: -kv[1]):
                share = sp["share_of_loop"].get(k)
                lines.append(f"    {k:<72} {v:>6.1f} us CPU/window"
                             + (f"  {100 * share:5.1f}% of the loop" if share is not None else ""))
    ap = (p or {}).get("sampled_alert_path")
    if ap:
        lines.append(f"  profile of the alert path (every window alerting; {ap['run']['per_s']:.0f} windows/s, "
                     f"{ap['run']['per_cpu_s']} windows per CPU s):")
        for k, v in sorted(ap["cpu_us_per_window"].items(), key=lambda kv: -kv[1]):
            if v >= 0.5:
                lines.append(f"    {k:<72} {v:>6.1f} us CPU/window")
    for name in ("latency", "latency_commit"):
        for stall in (r[name] or {}).get("stalled_attempts") or []:
            lines.append(f"  NOTE {name}: the first daemon stalled and the phase was rerun: {stall}")
    lines += [f"  JSON: {out}", ""]
    return "\n".join(lines)


if __name__ == "__main__":  # the same benchmark without the CLI registry: python -m daemon.bench_e2e [options]
    _parser = argparse.ArgumentParser(prog="latentwatch bench e2e", description=__doc__.splitlines()[0])
    add_arguments(_parser)
    sys.exit(run(_parser.parse_args()))
