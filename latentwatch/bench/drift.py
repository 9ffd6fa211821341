"""`latentwatch bench drift`: what the drift detectors cost the daemon per window.

The daemon's own ``DriftReporter.observe`` (``daemon/drift_report.py``: the quiet-window mask, the grouping by asset,
river's detector update and the ring per window) is fed committed batches of ``--batch`` windows spread over
``--assets`` assets, lognormal errors with a level shift half way (so detections, logs and requests happen too, into
a temporary directory). It prints microseconds per window for each detector and ``drift.every``, and that cost as a
share of a daemon running at ``--daemon-rate`` windows/s (default: the README's ``latentwatch bench e2e`` figure).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import numpy as np


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--windows", type=int, default=200_000, help="windows fed per setting")
    p.add_argument("--batch", type=int, default=1000, help="windows per committed batch")
    p.add_argument("--assets", type=int, nargs="+", default=[1, 10, 1000], help="assets per run (one run each)")
    p.add_argument("--every", type=int, nargs="+", default=[1, 10], help="drift.every values to time")
    p.add_argument("--daemon-rate", type=float, default=14_705.0, help="the daemon's windows/s to compare with")
    p.add_argument("--seed", type=int, default=0)


def _batches(n: int, size: int, assets: int, seed: int) -> list:
    from daemon.batch import Batch
    from daemon.windows import Windows
    from pipelines.online import ScoredBatch

    rng = np.random.default_rng(seed)
    names = [f"asset-{i}" for i in range(assets)]
    out = []
    for start in range(0, n, size):
        m = min(size, n - start)
        err = rng.lognormal(0.0, 0.3, m) * (2.0 if start >= n // 2 else 1.0)
        w = Windows(
            topic=["t"] * m,
            partition=np.zeros(m, dtype=np.int32),
            offset=np.arange(start, start + m, dtype=np.int64),
            key=[None] * m,
            asset=[names[(start + i) % assets] for i in range(m)],
            ts_ms=1_700_000_000_000 + 1000 * np.arange(start, start + m, dtype=np.int64) // assets,
            values=np.zeros((m, 1), dtype=np.float32),
            meta=[None] * m,
        )
        b = Batch(records=[])
        b.windows = w
        b.scored = ScoredBatch(score=err, components={}, neighbours=np.zeros((m, 0)), recon_error=err)
        b.alarms, b.thresholds = rng.random(m) < 0.001, np.full(m, np.inf)
        out.append(b)
    return out


def run(args: argparse.Namespace) -> int:
    import structlog

    from daemon.config.drift import DriftConfig
    from daemon.drift_report import DriftReporter
    from daemon.metrics import Metrics

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))  # the drift lines
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    print(
        f"{args.windows} windows per setting, batches of {args.batch}; share of a daemon at "
        f"{args.daemon_rate:,.0f} windows/s; load average {load}"
    )
    print(f"{'detector':<13} {'assets':>7} {'every':>6} {'us/window':>10} {'share':>7} {'drifts':>7}")
    with tempfile.TemporaryDirectory(prefix="latentwatch-bench-drift-") as tmp:
        for assets in args.assets:
            batches = _batches(args.windows, args.batch, assets, args.seed)
            for detector in ("adwin", "page_hinkley"):
                for every in args.every:
                    cfg = DriftConfig(detector=detector, every=every, min_windows=16)
                    metrics = Metrics()
                    rep = DriftReporter(cfg, metrics, Path(tmp) / f"req-{assets}-{detector}-{every}.json", None)
                    t0 = time.perf_counter()
                    for b in batches:
                        rep.observe([b])
                    us = (time.perf_counter() - t0) / args.windows * 1e6
                    share = us * 1e-6 * args.daemon_rate
                    drifts = int(metrics.registry.get_sample_value("latentwatch_drift_detected_total") or 0)
                    print(f"{detector:<13} {assets:>7} {every:>6} {us:>10.2f} {share:>7.1%} {drifts:>7}")
    return 0
