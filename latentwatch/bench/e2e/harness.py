"""The benchmark's parts shared by every phase: the daemon under test (its config, its run until the topic is
done, stall detection), the bare consumer peer, the phase's topics and the windows produced up front."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any


def say(msg: str) -> None:
    print(f"bench e2e: {msg}", file=sys.stderr, flush=True)


def resolve_artifact(cfg: Any, args: argparse.Namespace, work: Path) -> Path:
    from latentwatch.replay import read_manifest

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

    from pipelines.fit import TrainSpec, fit_artifact
    from pipelines.sources import WindowSpec, normal_windows

    torch.set_num_threads(1)
    say(
        f"no SKAB artifact under {cfg.artifact.root}: training a 3-epoch one into {work / 'artifacts'} "
        "(scoring cost depends on the architecture and reference size, not on the epochs)"
    )
    spec = WindowSpec()
    return fit_artifact(
        normal_windows("skab", args.data_dir, spec),
        work / "artifacts",
        TrainSpec(epochs=3),
        progress=False,
        extra={"source": "skab", "window": spec.to_dict(), "normal_class": 0},
    )


def daemon_config(
    base: Path,
    out: Path,
    bootstrap: str,
    topics: dict[str, str],
    group: str,
    artifact: Path,
    state: Path,
    http_port: int,
    **sections: dict[str, Any],
) -> Path:
    import yaml

    doc = yaml.safe_load(base.read_text()) or {}
    doc.setdefault("kafka", {}).update(
        bootstrap_servers=[bootstrap],
        input_topic=topics["input"],
        alert_topic=topics["alerts"],
        dead_letter_topic=topics["dead"],
        group_id=group,
        client_id=f"bench-{group}",
    )
    doc["artifact"] = {"path": str(artifact), "check_interval_s": 3600}
    doc.setdefault("threshold", {})["checkpoint_path"] = str(state)
    doc.setdefault("http", {}).update(enabled=True, host="127.0.0.1", port=http_port)
    for name, values in sections.items():
        doc[name] = {**(doc.get(name) or {}), **values}
    out.write_text(f"# Written by `latentwatch bench e2e` from {base}.\n" + yaml.safe_dump(doc, sort_keys=False))
    return out


def daemon_pass(
    tag: str,
    base_cfg: Path,
    work: Path,
    bootstrap: str,
    topics: dict[str, str],
    run_id: str,
    artifact: Path,
    n: int,
    timeout_s: float,
    sections: dict[str, dict[str, Any]] | None = None,
    **run_kw: Any,
) -> dict[str, Any]:
    """One daemon over the ``n`` windows already in ``topics["input"]``, in a consumer group of its own; its config
    (work/<tag>.yaml), group, threshold checkpoint and log (work/<tag>-daemon.log) are named by ``tag``.
    ``run_kw`` goes to run_daemon_until_done (profile=, py_spy=)."""
    from latentwatch.daemon_process import free_port

    port = free_port()
    cfg = daemon_config(
        base_cfg,
        work / f"{tag}.yaml",
        bootstrap,
        topics,
        f"bench-e2e-{run_id}-{tag}",
        artifact,
        work / f"state-{tag}-{run_id}.json",
        port,
        **(sections or {}),
    )
    return run_daemon_until_done(cfg, work / f"{tag}-daemon.log", port, n, timeout_s, **run_kw)


def make_topics(bootstrap: str, security: dict[str, Any], run_id: str, tag: str, topics_made: list[str]) -> dict:
    """A phase's own input (4 partitions), alert and dead-letter topics, remembered for deletion at the end."""
    from latentwatch.kafka.admin import ensure_topics

    topics = {
        "input": f"bench-e2e-{run_id}{tag}-in",
        "alerts": f"bench-e2e-{run_id}{tag}-alerts",
        "dead": f"bench-e2e-{run_id}{tag}-dead",
    }
    ensure_topics(bootstrap, {topics["input"]: 4, topics["alerts"]: 2, topics["dead"]: 1}, security)
    topics_made += topics.values()
    return topics


def produce_up_front(bootstrap: str, security: dict[str, Any], topic: str, plan: Any, n: int, **kw: Any) -> Any:
    """``n`` windows of ``plan`` (looped) into ``topic``, all acknowledged before this returns."""
    from kafka import KafkaProducer

    from latentwatch.replay import producer_settings, replay

    producer = KafkaProducer(**producer_settings([bootstrap], security))
    try:
        rep = replay(producer, topic, plan, limit=n, loop=True, **kw)
    finally:
        producer.close(timeout=30)
    if rep.errors:
        raise RuntimeError(f"the producer lost {rep.errors} messages: {rep.first_error}")
    return rep


def raw_consume(
    bootstrap: str,
    topic: str,
    n: int,
    security: dict[str, Any],
    timeout_s: float,
    consumer_settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A bare kafka-python loop over every partition of ``topic`` from the beginning until ``n`` records are seen."""
    from kafka import KafkaConsumer, TopicPartition

    settings = {
        k: v
        for k, v in (consumer_settings or {}).items()
        if k not in ("group_id", "enable_auto_commit", "auto_offset_reset", "bootstrap_servers", "client_id")
    }
    c = KafkaConsumer(
        bootstrap_servers=bootstrap, client_id="bench-raw", enable_auto_commit=False, **{**settings, **security}
    )
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
    return {
        "records": seen,
        "seconds": round(wall, 3),
        "per_s": round(seen / wall, 1),
        "cpu_s": round(c1 - c0, 3),
        "per_cpu_s": round(seen / max(c1 - c0, 1e-9), 1),
    }


def run_daemon_until_done(
    cfg_path: Path,
    log: Path,
    http_port: int,
    n: int,
    timeout_s: float,
    profile: Path | None = None,
    py_spy: tuple[str, Path] | None = None,
) -> dict[str, Any]:
    """Start a daemon on a topic holding ``n`` windows; time it from its first consumed record to its last commit.
    ``py_spy``: (py-spy executable, output file): sample the daemon (every thread, 200 Hz) while it runs."""
    import subprocess

    from latentwatch.daemon_process import DaemonProcess, metric_sum, thread_cpu

    log.unlink(missing_ok=True)
    d = DaemonProcess(cfg_path, log, http_port, profile=profile)
    d.start()
    spy = None
    if py_spy is not None:
        spy = subprocess.Popen(
            [
                py_spy[0],
                "record",
                "--pid",
                str(d.pid),
                "--rate",
                "200",
                "--format",
                "raw",
                "--nonblocking",
                "--full-filenames",
                "--output",
                str(py_spy[1]),
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(str(py_spy[1]) + ".log", "w"),
        )
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
            check_stall(samples, d, log)
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
    return {
        "windows": n,
        "seconds": round(wall, 3),
        "per_s": round(n / wall, 1) if wall > 0 else None,
        "startup_to_first_record_s": round((t_first or t_done) - (samples[0][0] if samples else t_done), 2),
        "cpu_s": cpu,
        "per_cpu_s": round(n / cpu["total"], 1) if cpu.get("total") else None,
        "cpu_utilisation": round(cpu.get("total", 0.0) / wall, 2) if wall > 0 else None,
        "final_metrics": {"consumed": samples[-1][1], "scored": samples[-1][2], "dead_lettered": samples[-1][3]},
    }


STALL_S = 60.0


REJOIN_STALL_EVENT = "group_rejoin_stalled_recreating_consumer"  # daemon/service.py logs it


class Stalled(RuntimeError):
    """The daemon made no progress for STALL_S seconds (seen after a rebalance right after its first join)."""


def check_stall(samples: list[tuple[float, float, float, float]], d: Any, log: Path) -> None:
    """Fail fast (instead of waiting out the timeout) when the daemon has made no progress for STALL_S seconds."""
    if len(samples) < 2 or samples[-1][0] - samples[0][0] < STALL_S:
        return
    now, consumed = samples[-1][0], samples[-1][1]
    since = next((t for t, c, _, _ in reversed(samples) if c != consumed), samples[0][0])
    if now - since >= STALL_S:
        h = d.health()
        raise Stalled(
            f"the daemon stalled: {consumed:.0f} windows consumed and no progress for "
            f"{now - since:.0f}s (/healthz: {h}); daemon log: {log}"
        )


def retry_stalled(phase: Any) -> dict[str, Any]:
    """Run a latency phase; if its daemon stalls, once more with fresh topics and a fresh daemon. The stall is kept
    in the result (``stalled_attempts``): it is a daemon bug to fix, not noise to hide."""
    stalls = []
    for attempt in (1, 2):
        try:
            result = phase()
        except Stalled as e:
            stalls.append(str(e))
            say(
                f"{e}; the daemon log is kept as {_keep_log(e)}; retrying the phase with a fresh daemon"
                if attempt == 1
                else str(e)
            )
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
