"""`latentwatch bench e2e`: the phases in order (latentwatch/bench/e2e/__init__.py says what each measures)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from latentwatch.bench.e2e.harness import (
    daemon_pass,
    make_topics,
    produce_up_front,
    raw_consume,
    resolve_artifact,
    retry_stalled,
    say,
)
from latentwatch.bench.e2e.latency import latency_run
from latentwatch.bench.e2e.profiling import (
    alert_path_profile,
    cpu_by_part,
    find_py_spy,
    profile_breakdown,
    sampled_breakdown,
)
from latentwatch.bench.e2e.report import render

GOALS = {"windows_per_s": 10_000.0, "ratio_vs_raw": 0.5, "p99_ms": 200.0, "rate": 2000.0}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        default="conf/local.yaml",
        metavar="FILE",
        help="daemon YAML the benchmark's daemons start from (default conf/local.yaml)",
    )
    p.add_argument("--bootstrap", help="broker (default: the config's); the local one is started if needed")
    p.add_argument(
        "--artifact",
        metavar="DIR",
        help="artifact version directory (default: the config's current "
        "one; if there is none a 3-epoch SKAB model is trained into the work folder)",
    )
    p.add_argument("--windows", type=int, default=100_000, help="windows for the throughput run (default 100000)")
    p.add_argument("--rate", type=float, default=GOALS["rate"], help="windows/s for the latency run (default 2000)")
    p.add_argument("--duration", type=float, default=30.0, help="seconds of the latency run (default 30)")
    p.add_argument("--no-profile", action="store_true", help="skip the profiled passes")
    p.add_argument("--no-latency", action="store_true", help="skip the two latency runs (throughput only)")
    p.add_argument(
        "--no-binary",
        action="store_true",
        help="skip the throughput run on the same windows in the compact binary encoding",
    )
    p.add_argument(
        "--py-spy",
        choices=("auto", "yes", "no"),
        default="auto",
        help="also profile a pass with the py-spy sampler, every thread, no instrumentation overhead "
        "(auto: when py-spy is installed, e.g. `uv pip install py-spy`)",
    )
    p.add_argument("--keep-topics", action="store_true", help="leave the benchmark's topics on the broker")
    p.add_argument(
        "--out",
        default="out/bench-e2e.json",
        metavar="FILE",
        help="result JSON; the daemons' configs, logs and profile go to <dir of FILE>/bench-e2e/",
    )
    p.add_argument("--data-dir", help="shared data folder (default: $LATENTWATCH_DATA_DIR or ../shared/data)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds any one phase may take (default 900)")


def run(args: argparse.Namespace) -> int:
    from daemon.config import load_config
    from latentwatch.kafka.admin import delete_topics
    from latentwatch.kafka.broker import ensure_broker, stop_broker

    cfg = load_config(args.config)
    bootstrap = args.bootstrap or cfg.kafka.bootstrap_servers[0]
    security = cfg.kafka.security.client_kwargs()
    out = Path(args.out)
    work = (out.parent / "bench-e2e").absolute()
    work.mkdir(parents=True, exist_ok=True)
    started = ensure_broker(bootstrap, security, say=say)
    topics_made: list[str] = []
    try:
        result = _run(args, cfg, Path(cfg.source), work, bootstrap, security, topics_made)
    finally:
        if topics_made and not args.keep_topics:
            try:
                delete_topics(bootstrap, topics_made, security)
            except Exception as e:  # noqa: BLE001 - a leftover topic is not worth failing the run
                say(f"could not delete the benchmark's topics: {e!r}")
        if started:
            stop_broker(bootstrap)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(render(result, out))
    return 0


def _run(
    args: argparse.Namespace,
    cfg: Any,
    base_cfg: Path,
    work: Path,
    bootstrap: str,
    security: dict[str, Any],
    topics_made: list[str],
) -> dict[str, Any]:
    from daemon.kafka_clients import consumer_settings
    from latentwatch.replay import Plan, read_manifest
    from pipelines.sources import WindowSpec, streams

    t_start = time.perf_counter()
    artifact = resolve_artifact(cfg, args, work)
    manifest = read_manifest(artifact)
    spec = WindowSpec(**manifest["window"]) if manifest.get("window") else WindowSpec()
    run_id = uuid.uuid4().hex[:8]
    topics = make_topics(bootstrap, security, run_id, "", topics_made)

    # 1. produce up front
    n = args.windows
    plan = Plan.build("skab", streams("skab", args.data_dir, spec))
    say(f"producing {n} SKAB windows into {topics['input']} (4 partitions)")
    rep = produce_up_front(bootstrap, security, topics["input"], plan, n)
    produced = {
        "windows": rep.windows,
        "seconds": round(rep.seconds, 2),
        "per_s": round(rep.rate, 1),
        "partitions": {str(p): c for p, c in sorted(rep.partitions.items())},
    }

    # 2. bare consumer, daemon, bare consumer
    raw_settings = consumer_settings(cfg.kafka)
    say("raw consume #1 (bare KafkaConsumer loop)")
    raw1 = raw_consume(bootstrap, topics["input"], n, security, args.timeout, raw_settings)
    say(f"daemon: {n} windows, one instance (config {work / 'throughput.yaml'})")
    daemon = daemon_pass("throughput", base_cfg, work, bootstrap, topics, run_id, artifact, n, args.timeout)
    say("raw consume #2")
    raw2 = raw_consume(bootstrap, topics["input"], n, security, args.timeout, raw_settings)
    raw_mean = (raw1["per_s"] + raw2["per_s"]) / 2
    binary = (
        None
        if args.no_binary
        else binary_throughput(
            args, cfg, base_cfg, work, bootstrap, security, artifact, plan, run_id, topics_made, raw_settings
        )
    )

    # 3. latency: every window alerting, then ordinary traffic measured at the commit
    latency = latency_commit = None
    if not args.no_latency:
        latency = retry_stalled(
            lambda: latency_run(args, base_cfg, work, bootstrap, security, artifact, spec, topics_made, mode="alert")
        )
        latency_commit = retry_stalled(
            lambda: latency_run(args, base_cfg, work, bootstrap, security, artifact, spec, topics_made, mode="commit")
        )

    # 4. profile
    profile = None
    if not args.no_profile:
        prof = work / "daemon.prof"
        prof.unlink(missing_ok=True)
        say(f"profile: the throughput run again under cProfile -> {prof}")
        prun = daemon_pass(
            "profile", base_cfg, work, bootstrap, topics, run_id, artifact, n, args.timeout, profile=prof
        )
        profile = {"path": str(prof), "run": prun, **profile_breakdown(prof, n)}
        spy_bin = find_py_spy(args.py_spy)
        if spy_bin:
            raw = work / "daemon.py-spy.txt"
            raw.unlink(missing_ok=True)
            say(f"profile: the throughput run again under py-spy (every thread, 200 Hz) -> {raw}")
            srun = daemon_pass(
                "py-spy", base_cfg, work, bootstrap, topics, run_id, artifact, n, args.timeout, py_spy=(spy_bin, raw)
            )
            if raw.is_file():
                sampled = sampled_breakdown(raw, n)
                profile["sampled"] = {
                    "path": str(raw),
                    "run": srun,
                    **sampled,
                    "cpu_us_per_window": cpu_by_part(sampled, srun["cpu_s"], n),
                }
            else:
                say(f"py-spy wrote nothing; see {raw}.log")
            profile["sampled_alert_path"] = alert_path_profile(
                args, base_cfg, work, bootstrap, security, artifact, spec, topics_made, spy_bin
            )

    def vs(value: float | None, goal: float, higher: bool = True) -> dict[str, Any]:
        met = value is not None and (value >= goal if higher else value <= goal)
        return {"value": value, "goal": goal, "met": met, "x_goal": round(value / goal, 3) if value else None}

    ratio = round(daemon["per_s"] / raw_mean, 3) if daemon["per_s"] and raw_mean else None
    return {
        "command": " ".join(
            ["latentwatch bench e2e", *(sys.argv[sys.argv.index("e2e") + 1 :] if "e2e" in sys.argv else sys.argv[1:])]
        ),
        "machine": {"cpus": os.cpu_count(), "load_avg_at_end": [round(x, 2) for x in os.getloadavg()]},
        "code": _git_state(),
        "artifact": {
            "path": str(artifact),
            "version": manifest["version"],
            "dim": manifest.get("dim"),
            "scorer": manifest.get("scorer"),
            "reference_items": manifest.get("metrics", {}).get("reference_items"),
        },
        "config": str(base_cfg),
        "produced": produced,
        "throughput": {
            "daemon": daemon,
            "raw_before": raw1,
            "raw_after": raw2,
            "raw_mean_per_s": round(raw_mean, 1),
            "ratio_vs_raw": ratio,
            "ratio_per_cpu_s": round(daemon["per_cpu_s"] / ((raw1["per_cpu_s"] + raw2["per_cpu_s"]) / 2), 3)
            if daemon.get("per_cpu_s")
            else None,
        },
        "binary": binary,
        "latency": latency,
        "latency_commit": latency_commit,
        "profile": profile,
        "goals": {
            "windows_per_s": vs(daemon["per_s"], GOALS["windows_per_s"]),
            "ratio_vs_raw": vs(ratio, GOALS["ratio_vs_raw"]),
            "p99_ms_at_rate": vs(latency and latency["latency_ms"]["p99"], GOALS["p99_ms"], higher=False),
            "p99_ms_at_rate_commit": vs(
                latency_commit and latency_commit["latency_ms"]["p99"], GOALS["p99_ms"], higher=False
            ),
            "latency_rate": args.rate,
        },
        "seconds": round(time.perf_counter() - t_start, 1),
    }


def binary_throughput(
    args: argparse.Namespace,
    cfg: Any,
    base_cfg: Path,
    work: Path,
    bootstrap: str,
    security: dict[str, Any],
    artifact: Path,
    plan: Any,
    run_id: str,
    topics_made: list[str],
    raw_settings: dict[str, Any],
) -> dict[str, Any]:
    """The throughput run again on the same windows in the compact binary encoding (own topics and group), with
    its own bare-consumer peer, so the two encodings compare within one run."""

    topics = make_topics(bootstrap, security, run_id, "-bin", topics_made)
    say(f"binary encoding: producing {args.windows} windows into {topics['input']}")
    rep = produce_up_front(bootstrap, security, topics["input"], plan, args.windows, encoding="binary")
    raw = raw_consume(bootstrap, topics["input"], args.windows, security, args.timeout, raw_settings)
    say("binary encoding: daemon")
    daemon = daemon_pass("binary", base_cfg, work, bootstrap, topics, run_id, artifact, args.windows, args.timeout)
    return {
        "produced_per_s": round(rep.rate, 1),
        "raw": raw,
        "daemon": daemon,
        "ratio_vs_raw": round(daemon["per_s"] / raw["per_s"], 3) if daemon["per_s"] and raw["per_s"] else None,
    }


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
