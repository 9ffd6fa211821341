"""The daemon's longest pause around a swap under load (``latentwatch bench refresh``, issue 12; goal < 1 s, nothing
lost).

A model is trained on SKAB's anomaly-free run (10-row windows, summary features; 3 epochs: what a swap costs
depends on the architecture and the reference, not on the epochs) and refreshed once with the same frozen model
(``pipelines.refresh.rebuild``: a new reference, index and calibration, published beside it). A real daemon runs on a
thread of this process against the real broker while a producer sends SKAB's normal windows with 1 % noise over 20
assets at a steady rate; halfway, ``current`` is pointed at the refresh, and the traffic goes on until 2 s after
the swap. Measured from the loop itself: the gaps
between consecutive loop turns and between consecutive commits, the largest around the swap (from the pointer's move
until a second after the swap) against the largest in a span as long just before it (no swap, same run), and the
duration of the turn that swapped. Every input offset is checked: committed, and through the chain exactly once.
The swap's own turn at fleet scale (the threshold rebase with 100,000 assets) is timed on its own
(``rebase_seconds``).

Twice: with the load in the loop's thread (``background`` off: load, verify and warm-up pause the loop, how the
daemon swapped before) and as the daemon runs now (loaded beside the loop, swapped between batches).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

RATE = 2_000  # windows a second of live traffic
MAX_WINDOWS = 60_000  # per mode: the measure needs seconds of load around the swap, not a large topic
ASSETS = 20
COLUMNS = (
    "mode",
    "windows",
    "lost",
    "twice",
    "gap_swap_s",
    "gap_before_s",
    "ratio",
    "commit_gap_swap_s",
    "swap_turn_s",
)


def _train(root: Path) -> tuple[np.ndarray, str, str]:
    """(windows, v1, v2): the model's version and its refresh, ``current`` still on v1."""
    import torch

    from pipelines.artifact.store import current_version
    from pipelines.fit import TrainSpec, fit_artifact
    from pipelines.online import OnlineModel
    from pipelines.refresh.rebuild import rebuild, write_version
    from pipelines.sources import WindowSpec, normal_windows

    torch.set_num_threads(1)
    X = normal_windows("skab", None, WindowSpec(10, 1, "summary"))
    spec = TrainSpec(epochs=3, patience=3, device="cpu", split="time")
    fit_artifact(X, root, spec, seed=0, progress=False)
    model = OnlineModel.load_current(root)
    rng = np.random.default_rng(1)
    noisy = X + rng.normal(size=X.shape) * 0.01 * X.std(axis=0)
    rebuilt, _ = rebuild(model, noisy, np.array([f"a{i % ASSETS}" for i in range(len(X))]), 0.1, seed=1)
    v2 = write_version(root, model, rebuilt, {"refreshed_by": "bench refresh swap"}).name
    model.close()
    v1 = current_version(root)
    assert v1 is not None
    return X, v1, v2


def _config(work: Path, bootstrap: str, root: Path, topics: dict[str, str]) -> Path:
    import yaml

    doc = {
        "kafka": {
            "bootstrap_servers": [bootstrap],
            "input_topic": topics["input"],
            "alert_topic": topics["alerts"],
            "dead_letter_topic": topics["dead"],
            "group_id": f"bench-swap-{uuid.uuid4().hex[:8]}",
            "client_id": "bench-swap",
        },
        "batching": {"max_records": 500, "max_wait_ms": 50, "max_in_flight": 5000},
        "artifact": {"root": str(root), "check_interval_s": 0.2},
        "threshold": {
            "method": "spot",
            "q": 1e-3,
            "level": 0.9,
            "checkpoint_path": str(work / "state.npz"),
            "checkpoint_interval_s": 5,
        },
        "http": {"enabled": False},
        "logging": {"level": "WARNING", "json": True},
    }
    path = work / "daemon.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


class Traffic:
    """Windows at RATE a second on a thread of their own, at least ``n``, and on until ``stop`` (so that the load
    lasts until after the swap however long the new version takes to load); ``sent`` counts them."""

    def __init__(self, bootstrap: str, topic: str, X: np.ndarray, n: int, seed: int) -> None:
        self.bootstrap, self.topic, self.X, self.n, self.seed = bootstrap, topic, X, n, seed
        self.sent = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._send, name="bench-traffic", daemon=True)
        self.thread.start()

    def stop(self) -> int:
        self.stopping.set()
        self.thread.join(self.n / RATE + 120)
        return self.sent

    def _send(self) -> None:
        import orjson
        from kafka import KafkaProducer

        X, rng = self.X, np.random.default_rng(self.seed)
        scale = 0.01 * X.std(axis=0)
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, linger_ms=5, acks="all")
        t0, ts0 = time.monotonic(), int(time.time() * 1000) - 86_400_000
        step, i = RATE // 10, 0
        while i < self.n or not self.stopping.is_set():
            for _ in range(step):
                v = X[i % len(X)] + rng.normal(size=X.shape[1]) * scale
                a = f"a{i % ASSETS}"
                doc = {"schema": 1, "asset": a, "ts": ts0 + i * 50, "values": v.tolist()}
                producer.send(self.topic, key=a.encode(), value=orjson.dumps(doc))
                i += 1
            self.sent = i
            time.sleep(max(0.0, t0 + i / RATE - time.monotonic()))
        producer.flush(60)
        producer.close(10)


def _committed_to_end(bootstrap: str, group: str, topic: str) -> bool:
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or set())]
        return all((c.committed(tp) or 0) == end for tp, end in c.end_offsets(tps).items())
    finally:
        c.close(autocommit=False)


def _largest(times: list[float], start: float, end: float) -> float:
    """The largest gap between consecutive times that overlaps [start, end]."""
    gaps = [b - a for a, b in zip(times, times[1:], strict=False) if b >= start and a <= end]
    return max(gaps, default=0.0)


def _one(mode: str, bootstrap: str, root: Path, X: np.ndarray, v2: str, n: int) -> dict[str, Any]:
    from daemon.config import load_config
    from daemon.service import Daemon
    from latentwatch.kafka.admin import ensure_topics
    from pipelines.artifact.store import set_current

    with tempfile.TemporaryDirectory(prefix=f"lw-swap-{mode}-") as tmp:
        tag = uuid.uuid4().hex[:8]
        topics = {k: f"bench-swap-{k}-{tag}" for k in ("input", "alerts", "dead")}
        ensure_topics(bootstrap, {topics["input"]: 4, topics["alerts"]: 1, topics["dead"]: 1})
        d = Daemon(load_config(_config(Path(tmp), bootstrap, root, topics)))
        d.model.background = mode == "background"
        turns: list[float] = []
        commits: list[float] = []
        seen: list[tuple[int, int]] = []
        swap_turn: list[float] = []
        turn, on_committed, maybe_swap = d._turn, d._on_committed, d.model.maybe_swap

        def timed_turn() -> None:
            turn()
            turns.append(time.monotonic())

        def recorded(batches: list[Any], offsets: Any) -> None:
            commits.append(time.monotonic())
            for b in batches:
                seen.extend((r.partition, r.offset) for r in b.records)
            on_committed(batches, offsets)

        def timed_swap(force: bool = False) -> bool:
            t = time.monotonic()
            swapped = maybe_swap(force)
            if swapped:
                swap_turn.append(time.monotonic() - t)
            return swapped

        d._turn, d._on_committed, d.model.maybe_swap = timed_turn, recorded, timed_swap  # type: ignore[method-assign]
        runner = threading.Thread(target=d.run, name=f"bench-daemon-{mode}", daemon=True)
        runner.start()
        if not d.started.wait(120):
            raise RuntimeError("the daemon did not start within 120 s")
        traffic = Traffic(bootstrap, topics["input"], X, n, seed=len(mode))
        while len(seen) < n // 2:
            time.sleep(0.02)
        t_pointer = time.monotonic()
        set_current(root, v2)
        while d.model.model.version != v2:
            time.sleep(0.01)
        t_swapped = time.monotonic()
        time.sleep(2.0)  # load on after the swap too
        sent = traffic.stop()
        deadline = time.monotonic() + 120
        while len(seen) < sent and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        d.flags.request_stop("bench")
        runner.join(60)
        committed = _committed_to_end(bootstrap, d.cfg.kafka.group_id, topics["input"])
    end = t_swapped + 1.0
    span = end - t_pointer
    around = _largest(turns, t_pointer, end)
    before = _largest(turns, t_pointer - 0.5 - span, t_pointer - 0.5)
    return {
        "mode": mode,
        "windows": sent,
        "lost": sent - len(set(seen)),
        "committed_to_end": committed,
        "twice": len(seen) - len(set(seen)),
        "gap_swap_s": round(around, 3),
        "gap_before_s": round(before, 3),
        "ratio": round(around / before, 1) if before else None,
        "commit_gap_swap_s": round(_largest(commits, t_pointer, end), 3),
        "commit_gap_before_s": round(_largest(commits, t_pointer - 0.5 - span, t_pointer - 0.5), 3),
        "swap_turn_s": round(max(swap_turn, default=0.0), 3),
        "load_s": round(t_swapped - t_pointer, 3),
    }


def rebase_seconds(assets: int = 100_000) -> float:
    """What the swap's own turn costs at fleet scale: a refresh's threshold rebase (``DecisionState.rebase``) with
    ``assets`` spilled detectors on the shared fit, all restarting."""
    from types import SimpleNamespace

    from daemon.config import ThresholdConfig
    from daemon.factories import StateFactories
    from daemon.state import DecisionState
    from pipelines.episodes import EpisodeTracker
    from pipelines.threshold import ThresholdBank
    from pipelines.threshold.persistence import Persistence

    settings = ThresholdConfig(method="dspot", q=1e-3, level=0.98)
    rng = np.random.default_rng(0)
    old, new = np.abs(rng.normal(size=3000)), np.abs(rng.normal(size=3000)) * 0.9
    bank = ThresholdBank.from_settings(settings, old, None)
    names = [f"a{i}" for i in range(assets)]
    for i in range(0, assets, 10_000):
        part = names[i : i + 10_000]
        bank.process(part * 5, np.abs(rng.normal(size=5 * len(part))))
    bank.spill()
    bank.spill()
    state = DecisionState(bank, Persistence(), EpisodeTracker())
    t = time.perf_counter()
    state.rebase(
        StateFactories(),
        settings,
        SimpleNamespace(version="v1", calibration=old, asset_calibration=None),  # type: ignore[arg-type]
        SimpleNamespace(version="v2", calibration=new, asset_calibration=None),  # type: ignore[arg-type]
    )
    return time.perf_counter() - t


def table(rows: list[dict[str, Any]]) -> str:
    lines = [COLUMNS] + [tuple(str(r.get(c, "-")) for c in COLUMNS) for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in lines)


def measure_swap_pause(windows: int, port: int | None = None) -> dict[str, Any]:
    """Both modes under at least ``min(windows, MAX_WINDOWS)`` windows of live traffic each (on until 2 s after the
    swap); prints the table, returns
    {"before": row, "after": row, "goal_s": 1.0, "met": bool}. ``port``: the broker's (default: scripts/kafka.sh's,
    started and stopped here when nothing answers)."""
    from latentwatch.kafka.broker import ensure_broker, kafka_sh

    if windows < 2 * RATE:
        raise ValueError(f"windows must be at least {2 * RATE} (two seconds of traffic at {RATE}/s), got {windows}")
    n = min(windows, MAX_WINDOWS)
    bootstrap = f"127.0.0.1:{port or os.environ.get('LATENTWATCH_KAFKA_PORT', '19092')}"
    started = ensure_broker(bootstrap, say=lambda m: print(f"bench swap: {m}", flush=True))
    try:
        with tempfile.TemporaryDirectory(prefix="lw-bench-swap-") as tmp:
            root = Path(tmp) / "artifacts"
            X, v1, v2 = _train(root)
            rows = []
            for mode in ("in-loop", "background"):
                from pipelines.artifact.store import set_current

                set_current(root, v1)
                rows.append(_one(mode, bootstrap, root, X, v2, n))
    finally:
        if started:
            kafka_sh("stop", bootstrap)
    print(f"swap pause under {RATE} windows/s (goal: < 1 s, nothing lost), cores: {os.cpu_count()}")
    print(table(rows))
    rebase = rebase_seconds()
    print(f"the swap's threshold rebase with 100,000 spilled assets restarting: {rebase:.2f} s")
    after = rows[-1]
    met = after["gap_swap_s"] < 1.0 and after["lost"] == 0 and after["twice"] == 0 and after["committed_to_end"]
    return {"before": rows[0], "after": after, "rebase_100k_assets_s": round(rebase, 3), "goal_s": 1.0, "met": met}


if __name__ == "__main__":
    import sys

    print(measure_swap_pause(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000))
