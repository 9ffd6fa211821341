"""How long a refresh takes and how much memory it needs, from windows read off a real topic.

The model is trained once on SKAB's anomaly-free run (10-row windows, summary features). For each size N, N
windows are produced into a fresh topic of the broker: SKAB's normal windows in a seeded shuffled order, repeated,
with small Gaussian noise (1 % of each feature's standard deviation), spread over 100 assets, as binary messages.
A child process (so its peak RSS is the refresh's alone) then reads the range back
(``latentwatch.training.topic.read_topic``, the refresh command's reader) and runs the refresh job on it
(``pipelines.refresh.job.refresh``: score under the current version, select, rebuild the reference, Annoy index and
calibration, validate, publish), timing each stage.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ASSETS = 100


@dataclass(frozen=True)
class BenchSettings:
    """The refresh section the bench runs with: the defaults, nothing capped below N."""

    max_windows: int = 2_000_000
    exclude_quantile: float = 0.99
    holdout_fraction: float = 0.1
    keep_versions: int = 5
    seed: int = 0


def train_model(root: Path, seed: int = 0, trained: bool = False) -> np.ndarray:
    """Train the bench's model under ``root`` (unless ``trained``: it is there); returns the normal windows the
    traffic is made from."""
    from pipelines.fit import TrainSpec, fit_artifact
    from pipelines.sources import WindowSpec, normal_windows

    X = normal_windows("skab", None, WindowSpec(10, 1, "summary"))
    spec = TrainSpec(hidden=(32, 16), latent=6, epochs=15, patience=5, n_trees=20, k=10, split="time")
    if not trained:
        fit_artifact(X, root, spec, seed=seed, progress=False, extra={"feature_names": None})
    return X


def produce(bootstrap: str, topic: str, base: np.ndarray, n: int, seed: int = 0) -> tuple[int, int, float]:
    """Produce n noisy copies of ``base`` rows into ``topic``; (start_ms, end_ms, seconds)."""
    from kafka import KafkaProducer

    from daemon.wire.binary_codec import serialize_binary
    from latentwatch.kafka.admin import ensure_topics
    from latentwatch.replay import producer_settings

    ensure_topics(bootstrap, {topic: 4})
    rng = np.random.default_rng(seed)
    scale = 0.01 * base.std(axis=0)
    order = rng.permutation(len(base))  # every part of the run in every stretch of time, the holdout's too
    producer = KafkaProducer(**producer_settings([bootstrap], linger_ms=50, batch_size=1 << 20))
    t0, start = time.perf_counter(), int(time.time() * 1000) - 1
    ts0 = 1_700_000_000_000
    for s in range(0, n, 50_000):
        m = min(50_000, n - s)
        rows = base[order[np.arange(s, s + m) % len(base)]] + rng.normal(size=(m, base.shape[1])) * scale
        for i, row in enumerate(rows):
            j = s + i
            asset = f"bench/{j % ASSETS:03d}"
            producer.send(topic, serialize_binary(asset, ts0 + j * 1000, row), key=asset.encode())
    producer.flush()
    producer.close()
    return start, int(time.time() * 1000) + 1, time.perf_counter() - t0


def _child(bootstrap: str, topic: str, start: int, end: int, root: str, width: int, out: Any) -> None:
    from daemon.config import Config, KafkaConfig
    from latentwatch.training.topic import read_topic
    from pipelines.refresh.job import refresh
    from pipelines.refresh.select import AlarmRanges
    from pipelines.refresh.validate import Rule

    cfg = Config(kafka=KafkaConfig(bootstrap_servers=(bootstrap,)))
    cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])  # user + system, after the imports
    t0 = time.perf_counter()
    got = read_topic(cfg, topic, start, end, width=width, progress=False, dtype=np.float32).windows
    read_s = time.perf_counter() - t0
    rss_read = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rule = Rule(max_alarm_rate_increase=0.01, max_auroc_drop=0.02, q=1e-4, level=0.98)
    done = refresh(Path(root), got.X, got.asset, got.ts_ms, AlarmRanges(), {}, BenchSettings(), rule)
    out.put(
        {
            "windows": len(got.X),
            "read_s": round(read_s, 2),
            **{f"{k}_s": v for k, v in done.seconds.items()},
            "total_s": round(time.perf_counter() - t0, 2),
            "kept": int(len(done.selection.keep)),
            "status": done.status,
            "reasons": done.verdict.reasons,
            "validation": done.verdict.metrics,
            "rss_after_read_mb": round(rss_read),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "cpu_s": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu0, 1),
        }
    )


def measure_rebuild(n: int, bootstrap: str, root: Path, base: np.ndarray, width: int) -> dict[str, Any]:
    """One size: produce n windows, refresh from them in a child process; the child's timings and peak RSS."""
    from latentwatch.kafka.admin import delete_topics

    topic = f"bench-refresh-{n}-{uuid.uuid4().hex[:6]}"
    work = root.parent / f"{root.name}-{n}"
    shutil.copytree(root, work)
    try:
        start, end, produce_s = produce(bootstrap, topic, base, n)
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        p = ctx.Process(target=_child, args=(bootstrap, topic, start, end, str(work), width, q))
        p.start()
        result = q.get()
        p.join()
        return {"produce_s": round(produce_s, 1), **result}
    finally:
        shutil.rmtree(work, ignore_errors=True)
        delete_topics(bootstrap, [topic])
