"""`latentwatch bench state --bootstrap HOST:PORT`: the daemon's restart back to consuming with a fleet's checkpoint.

The checkpoint ``bench state`` built (every asset's thresholds, episodes, persistence) is written where a real
``latentwatch run`` (``latentwatch.daemon_process.DaemonProcess``) reads it, under the threshold config key the daemon
checks, with a real artifact and fresh topics on a real broker; the time is from the process start to /healthz 200
(model loaded, checkpoint restored, partitions assigned). The daemon's log lines name when each step ended, so the
output also says what the time went to, and a fresh process times the daemon's imports and the model load
(``OnlineModel.load`` + ``warm_up``, as ``daemon.model_holder`` does) on their own.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

_PARTS = """
import json, sys, time
t0 = time.perf_counter()
import latentwatch.cli, daemon.service, pipelines.online
t1 = time.perf_counter()
from pathlib import Path
m = pipelines.online.OnlineModel.load(Path(sys.argv[1])); m.warm_up()
print(json.dumps({"daemon_import_s": t1 - t0, "model_load_s": time.perf_counter() - t1}))
"""


def measure(args: argparse.Namespace, state: dict[str, Any], work: Path) -> dict[str, Any]:
    from daemon import checkpoint
    from daemon.config import load_config
    from daemon.state import threshold_key
    from latentwatch.bench.e2e.harness import daemon_config, resolve_artifact
    from latentwatch.daemon_process import DaemonProcess, free_port
    from latentwatch.kafka.admin import delete_topics, ensure_topics
    from latentwatch.replay import read_manifest

    base = Path(args.config)
    cfg = load_config(base)
    artifact = resolve_artifact(cfg, argparse.Namespace(artifact=args.artifact, data_dir=args.data_dir), work)
    if not (artifact / "manifest.json").is_file():
        from pipelines.artifact.store import resolve_current

        artifact = resolve_current(artifact)
    run = uuid.uuid4().hex[:8]
    topics = {k: f"bench-restart-{run}-{k}" for k in ("input", "alerts", "dead")}
    ensure_topics(args.bootstrap, {t: 1 for t in topics.values()})
    ckpt, port = work / "daemon-state.ckpt", free_port()
    conf = daemon_config(
        base,
        work / "restart.yaml",
        args.bootstrap,
        topics,
        f"bench-restart-{run}",
        artifact,
        ckpt,
        port,
        threshold={"method": args.method},
    )
    key = threshold_key(load_config(conf).threshold)
    checkpoint.save(
        ckpt,
        {
            **state,
            "threshold_config": key,
            "committed": {f"{topics['input']}:0": 0},
            "artifact_version": read_manifest(artifact).get("version"),
            "lineage": run,
        },
    )
    d = DaemonProcess(conf, work / "restart-daemon.log", port)
    try:
        started = time.time()
        d.start()
        out: dict[str, Any] = {"restart_to_consuming_s": d.wait_consuming(args.restart_timeout)}
        out.update(_step_times(d.log, started))
    finally:
        d.stop()
        delete_topics(args.bootstrap, list(topics.values()))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    parts = (
        subprocess.run(
            [sys.executable, "-c", _PARTS, str(artifact)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    return {**out, **{f"restart_alone_{k}": v for k, v in json.loads(parts).items()}}


def _step_times(log: Path, started: float) -> dict[str, float]:
    """Seconds from the process start to the first log line of each step (the first line comes after imports), and
    how many assets the daemon restored (-1: it did not restore the checkpoint)."""
    seen: dict[str, float] = {}
    restored = -1
    for line in log.read_text(errors="replace").splitlines():
        try:
            rec = json.loads(line)
            at = datetime.fromisoformat(str(rec["timestamp"]).replace("Z", "+00:00")).timestamp()
        except (ValueError, KeyError, TypeError):
            continue
        seen.setdefault(f"log_{rec.get('event')}_s", at - started)
        if rec.get("event") == "checkpoint_restored":
            restored = int(rec.get("assets", -1))
    return {**seen, "restart_daemon_assets": restored}
