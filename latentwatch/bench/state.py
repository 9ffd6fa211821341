"""`latentwatch bench state`: what per-asset state costs at fleet scale (memory, checkpoint write, restore).

The daemon's own state objects (``ThresholdBank`` with the configured SPOT/DSPOT, ``EpisodeTracker``,
``Persistence``) are fed ``--windows`` windows for each of ``--assets`` distinct assets in batches of 500 through
``decide`` (thresholds, persistence), as the daemon's threshold step does, and the alarms through the tracker. It
prints the resident memory the state adds while every detector is live (every asset sent within the last
checkpoint interval) and after ``spill`` (every asset idle for a checkpoint interval: the daemon packs those), the
checkpoint the daemon writes (``daemon.checkpoint``, packed arrays: size and seconds) next to the former all-JSON
format, and a restore in a fresh process (read the file, rebuild the state: what a restart does before it consumes
again) with that process's RSS; with ``--bootstrap`` also a real daemon's restart from that checkpoint to /healthz 200
(``latentwatch/bench/restart.py``).
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

_RESTORE = """
import json, os, sys, time
t0 = time.perf_counter()
from daemon import checkpoint
from pipelines.episodes.episodes import EpisodeTracker
from pipelines.threshold.bank import ThresholdBank
from pipelines.threshold.persistence import Persistence
t1 = time.perf_counter()
s = checkpoint.load(__import__("pathlib").Path(sys.argv[1]))
bank = ThresholdBank.from_state(s["thresholds"])
EpisodeTracker.from_state(s["episodes"]); Persistence.from_state(s["persistence"])
t2 = time.perf_counter()
rss = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
print(json.dumps({"import_s": t1 - t0, "restore_s": t2 - t1, "rss_mib": rss / 2**20, "assets": len(bank.assets)}))
"""


def rss_mib() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _trim() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # hand freed arenas back, so RSS shows what is still held
    except OSError:
        pass


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--assets", type=int, default=100_000)
    p.add_argument("--windows", type=int, default=3, help="windows per asset (default 3)")
    p.add_argument("--method", choices=["spot", "dspot"], default="dspot")
    p.add_argument("--no-json-peer", action="store_true", help="skip the former all-JSON checkpoint (slow at 100k)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--bootstrap",
        help="also time a real `latentwatch run` restarting from this checkpoint to /healthz "
        "200 on this broker (latentwatch/bench/restart.py)",
    )
    p.add_argument("--config", default="conf/local.yaml", help="base daemon config for --bootstrap")
    p.add_argument("--artifact", help="artifact for --bootstrap (default: the config's, else a 3-epoch SKAB one)")
    p.add_argument("--data-dir", help="shared data folder, to train that artifact")
    p.add_argument("--restart-timeout", type=float, default=300.0)


def run(args: argparse.Namespace) -> int:
    from daemon import checkpoint
    from daemon.config import Config
    from pipelines.episodes.episodes import EpisodeTracker
    from pipelines.threshold.bank import ThresholdBank
    from pipelines.threshold.persistence import Persistence, decide

    cfg = Config()
    rng = np.random.default_rng(args.seed)
    _trim()
    base = rss_mib()
    bank = ThresholdBank.from_settings(
        dataclasses.replace(cfg.threshold, method=args.method), rng.exponential(size=5000)
    )
    tracker = EpisodeTracker.from_settings(cfg.episodes)
    persistence = Persistence.from_settings(cfg.threshold)
    names = [f"site-{i // 1000:03d}/asset-{i:06d}" for i in range(args.assets)]
    t0 = time.perf_counter()
    fed = 0
    for _ in range(args.windows):
        for lo in range(0, args.assets, 500):
            batch = names[lo : lo + 500]
            scores = rng.exponential(size=len(batch))
            if cfg.threshold.idle_expiry_s is not None:  # as the daemon's threshold step: last-seen times kept
                bank.expire(batch, np.full(len(batch), float(fed)), cfg.threshold.idle_expiry_s)
            alarms, _ = decide(bank, persistence, batch, scores)
            for i in np.flatnonzero(alarms).tolist():
                tracker.observe(batch[i], float(fed), True, float(scores[i]), f"in:0:{fed + i}")
            fed += len(batch)
    feed_s = time.perf_counter() - t0
    _trim()
    live = rss_mib()
    bank.spill()  # a checkpoint: every asset was used since the last one, so none is packed yet
    t0 = time.perf_counter()
    packed = bank.spill()  # the next checkpoint, no window in between: every asset idle for an interval
    spill_s = time.perf_counter() - t0
    _trim()
    spilled = rss_mib()
    out: dict = {
        "assets": args.assets,
        "windows": fed,
        "method": args.method,
        "feed_windows_per_s": fed / feed_s,
        "rss_base_mib": base,
        "state_live_mib": live - base,
        "state_after_spill_mib": spilled - base,
        "bytes_per_asset_live": (live - base) * 2**20 / args.assets,
        "bytes_per_asset_spilled": (spilled - base) * 2**20 / args.assets,
        "spill_s": spill_s,
        "spilled": packed,
        "rss_mib": spilled,
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.ckpt"
        t0 = time.perf_counter()
        checkpoint.save(
            path,
            {
                "committed": {"in:0": fed},
                "thresholds": bank.compact_state(),
                "episodes": tracker.state(),
                "persistence": persistence.state(),
            },
        )
        out["checkpoint_write_s"] = time.perf_counter() - t0
        out["checkpoint_mb"] = path.stat().st_size / 1e6
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        restored = json.loads(
            subprocess.run(
                [sys.executable, "-c", _RESTORE, str(path)], env=env, check=True, capture_output=True, text=True
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        out.update({f"restart_{k}": v for k, v in restored.items()})
        if args.bootstrap:
            from latentwatch.bench.restart import measure

            out.update(
                measure(
                    args,
                    {
                        "thresholds": bank.compact_state(),
                        "episodes": tracker.state(),
                        "persistence": persistence.state(),
                    },
                    Path(tmp),
                )
            )
        if not args.no_json_peer:
            t0 = time.perf_counter()
            data = json.dumps(
                {
                    "format": 1,
                    "thresholds": bank.state(),
                    "episodes": tracker.state(),
                    "persistence": persistence.state(),
                },
                separators=(",", ":"),
            ).encode()
            (Path(tmp) / "v1.json").write_bytes(data)
            out["json_peer_write_s"] = time.perf_counter() - t0
            out["json_peer_mb"] = len(data) / 1e6
            out["json_peer_size_ratio"] = out["json_peer_mb"] / out["checkpoint_mb"]
    for k, v in out.items():
        print(f"{k:>28}: {v:.4g}" if isinstance(v, float) else f"{k:>28}: {v}")
    print(json.dumps(out))
    return 0
