"""End-to-end fixtures and helpers: a small real artifact, the daemon as a subprocess, topics read back, offline runs.

Everything here talks to the real broker (``kafka_bootstrap`` from tests/conftest.py) and runs the real daemon
(``python -m latentwatch run --config FILE``) as a child process, so it can be killed with SIGKILL. The expected
alerts come from ``daemon.offline.score_offline``: the daemon's own chain fed from memory.
"""

from __future__ import annotations

import signal
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from latentwatch import daemon_process
from latentwatch.kafka.admin import committed, read_range

REPO = Path(__file__).resolve().parents[2]

# Six SKAB runs (about 6,700 windows): every fault family, small enough for a couple of minutes per test on 2 cores.
E2E_ASSETS = ("skab/valve1/0", "skab/valve1/1", "skab/valve2/0", "skab/other/1", "skab/other/9", "skab/other/13")


# -- the model ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def e2e_artifact(tmp_path_factory) -> Path:
    """A real artifact (version directory), trained once per session on SKAB's normal windows with the shared window
    spec: every third window, 3 epochs. Weak, which suits these tests: it raises plenty of alarms."""
    from pipelines.fit import TrainSpec, fit_artifact
    from pipelines.sources import WindowSpec, normal_windows

    spec = WindowSpec(10, 1, "summary")
    X = normal_windows("skab", None, spec)[::3]
    train = TrainSpec(hidden=(32, 16), latent=6, epochs=3, patience=3, n_trees=10, k=10)
    return fit_artifact(
        X,
        tmp_path_factory.mktemp("e2e-artifacts"),
        train,
        seed=0,
        progress=False,
        extra={"source": "skab", "window": spec.to_dict(), "normal_class": 0},
    )


# -- topics ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topics:
    input: str
    alerts: str
    dead: str


@pytest.fixture
def e2e_topics(kafka_topics) -> Callable[..., Topics]:
    def make(name: str, partitions: int = 4) -> Topics:
        return Topics(
            kafka_topics(f"e2e-{name}-in", partitions),
            kafka_topics(f"e2e-{name}-alerts", 2),
            kafka_topics(f"e2e-{name}-dead", 1),
        )

    return make


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id="e2e-ends")
    try:
        # every topic has a partition: none means the metadata is not there yet (e.g. just after a broker restart)
        parts = wait_until(lambda: c.partitions_for_topic(topic), 60, f"metadata for {topic}", poll_s=0.2)
        return {tp.partition: o for tp, o in c.end_offsets([TopicPartition(topic, p) for p in parts]).items()}
    finally:
        c.close()


def read_all(bootstrap: str, topic: str, timeout_s: float = 60) -> list[Any]:
    """Every record of ``topic`` up to its end offsets now (waiting for the metadata), in (partition, offset) order."""
    return read_range(bootstrap, topic, {}, end_offsets(bootstrap, topic), timeout_s=timeout_s)


def alerts_of(records: Iterable[Any]) -> list[dict]:
    return [orjson.loads(r.value) for r in records]


def dead_letters_of(records: Iterable[Any]) -> list[tuple[int, int, str]]:
    out = []
    for r in records:
        h = {k: v.decode() for k, v in r.headers}
        out.append((int(h["source_partition"]), int(h["source_offset"]), h["reason"]))
    return out


def wait_until(
    pred: Callable[[], Any], timeout_s: float, what: str, poll_s: float = 0.5, check: Callable[[], None] | None = None
) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        if check is not None:
            check()
        got = pred()
        if got:
            return got
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(poll_s)


def caught_up(bootstrap: str, group: str, topic: str) -> bool:
    ends = end_offsets(bootstrap, topic)
    return sum(ends.values()) > 0 and committed(bootstrap, group, topic) == {p: o for p, o in ends.items() if o}


# -- the daemon -----------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(
    path: Path,
    bootstrap: str,
    topics: Topics,
    group: str,
    artifact: Path,
    state: Path,
    http_port: int,
    **sections: dict,
) -> Path:
    doc: dict[str, Any] = {
        "kafka": {
            "bootstrap_servers": [bootstrap],
            "input_topic": topics.input,
            "alert_topic": topics.alerts,
            "dead_letter_topic": topics.dead,
            "group_id": group,
            "client_id": f"e2e-{path.stem}",
            "auto_offset_reset": "earliest",
            # a killed member is noticed after 6 s (the broker's minimum), not the default 45 s
            "consumer": {"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000},
            "producer": {"linger_ms": 5},
        },
        "batching": {"max_records": 500, "max_wait_ms": 50, "max_in_flight": 5000},
        "artifact": {"path": str(artifact), "check_interval_s": 3600},
        "threshold": {
            "method": "dspot",
            "q": 1e-3,
            "level": 0.98,
            "depth": 10,
            "checkpoint_path": str(state),
            "checkpoint_interval_s": 0.001,
        },
        "episodes": {"quiet_windows": 3, "quiet_seconds": 300, "max_duration_s": 86400, "update_every": 2},
        # small enough that the replay can produce an "oversized" message
        "dead_letter": {"max_bytes": 16384, "window": 1000, "max_ratio": 0.5, "max_consecutive": 500},
        "http": {"enabled": True, "host": "127.0.0.1", "port": http_port},
        "logging": {"level": "INFO", "json": True},
        "shutdown_timeout_s": 30,
    }
    for name, values in sections.items():
        doc[name] = {**doc[name], **values}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


class DaemonProcess(daemon_process.DaemonProcess):
    """``latentwatch run --config FILE`` as a child process (``latentwatch.daemon_process``'s), plus what these tests
    need: restarts marked in one log, the partitions /healthz reports, SIGKILL, the JSON log events."""

    def __init__(self, config: Path, log: Path, http_port: int) -> None:
        super().__init__(config, log, http_port, cwd=REPO)
        self.starts = 0

    def start(self) -> DaemonProcess:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            out.write(f"--- start {self.starts + 1} ---\n".encode())
        self.starts += 1
        super().start()
        return self

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"the daemon exited with {self.proc.returncode}; log tail:\n{self.tail()}")

    def partitions(self) -> int:
        """How many partitions /healthz says this member consumes (0 while not consuming)."""
        h = self.health()
        if h is None or h[0] != 200 or not h[1].startswith("consuming "):
            return 0
        return int(h[1].split()[1])

    def wait_consuming(self, timeout_s: float = 90) -> None:
        wait_until(lambda: self.partitions() > 0, timeout_s, f"{self.config.name} to consume", check=self.check_alive)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def events(self, name: str) -> list[dict]:
        """The daemon's JSON log lines whose event is ``name``."""
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{") and f'"{name}"' in line:
                try:
                    doc = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if doc.get("event") == name:
                    out.append(doc)
        return out


@dataclass
class E2E:
    """One test's world: a broker, its topics, a consumer group, an artifact and a scratch directory."""

    bootstrap: str
    topics: Topics
    group: str
    artifact: Path
    tmp: Path

    def config(self, name: str, **sections: dict) -> Path:
        return write_config(
            self.tmp / f"{name}.yaml",
            self.bootstrap,
            self.topics,
            self.group,
            self.artifact,
            self.tmp / f"{name}-state.json",
            free_port(),
            **sections,
        )

    def daemon(self, name: str, **sections: dict) -> DaemonProcess:
        cfg = self.config(name, **sections)
        port = yaml.safe_load(cfg.read_text())["http"]["port"]
        return DaemonProcess(cfg, self.tmp / f"{name}.log", port)

    def replay(self, *args: str, config: Path | None = None) -> dict:
        """``latentwatch replay`` in this process (the real CLI); its JSON summary."""
        from latentwatch.cli import main

        cfg = config or self.config("replay")
        out = self.tmp / f"replay-{uuid.uuid4().hex[:6]}.json"
        argv = ["replay", "--config", str(cfg), "--artifact-root", str(self.artifact), "--quiet", *args]
        import contextlib
        import io

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rc = main(argv)
        out.write_text(buf.getvalue())
        assert rc == 0, f"replay failed ({rc}): {buf.getvalue()}"
        return orjson.loads(buf.getvalue().strip().splitlines()[-1])

    def replay_in_background(
        self,
        rate: float,
        inject_bad: float = 0.0,
        seed: int = 0,
        assets: Iterable[str] = E2E_ASSETS,
        loop: bool = False,
        limit: int | None = None,
    ) -> BackgroundReplay:
        """The replay library (what the CLI runs) on a thread, at ``rate`` windows/s; ``.stop()`` ends it early,
        ``.join()`` gives its report."""
        return BackgroundReplay(self, rate, inject_bad, seed, tuple(assets), loop, limit).start()

    def caught_up(self) -> bool:
        return caught_up(self.bootstrap, self.group, self.topics.input)

    def committed(self) -> dict[int, int]:
        return committed(self.bootstrap, self.group, self.topics.input)

    def ends(self) -> dict[int, int]:
        return end_offsets(self.bootstrap, self.topics.input)

    def inputs(self) -> list[Any]:
        return read_all(self.bootstrap, self.topics.input)

    def alerts(self) -> list[dict]:
        return alerts_of(read_all(self.bootstrap, self.topics.alerts))

    def dead_letters(self) -> list[tuple[int, int, str]]:
        return dead_letters_of(read_all(self.bootstrap, self.topics.dead))

    def offline(self, name: str = "offline") -> Any:
        """What the daemon publishes for the input topic as it stands, computed offline by its own chain."""
        from daemon.config import load_config
        from daemon.offline import score_offline

        return score_offline(load_config(self.config(name)), self.inputs(), self.artifact)


class BackgroundReplay:
    def __init__(
        self,
        world: E2E,
        rate: float,
        inject_bad: float,
        seed: int,
        assets: tuple[str, ...],
        loop: bool = False,
        limit: int | None = None,
    ) -> None:
        import threading

        from latentwatch.replay import Plan
        from pipelines.sources import WindowSpec, streams

        manifest = orjson.loads((world.artifact / "manifest.json").read_bytes())
        self.plan = Plan.build("skab", streams("skab", None, WindowSpec(**manifest["window"])), assets)
        self.world, self.rate, self.inject_bad, self.seed = world, rate, inject_bad, seed
        self.loop, self.limit = loop, limit
        self.stop_event = threading.Event()
        self.report: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="e2e-replay", daemon=True)

    def start(self) -> BackgroundReplay:
        self.thread.start()
        return self

    def _run(self) -> None:
        from kafka import KafkaProducer

        from latentwatch.replay import producer_settings, replay

        try:
            producer = KafkaProducer(**producer_settings([self.world.bootstrap], linger_ms=5))
            try:
                self.report = replay(
                    producer,
                    self.world.topics.input,
                    self.plan,
                    rate=self.rate,
                    loop=self.loop,
                    limit=self.limit,
                    inject_bad=self.inject_bad,
                    max_bytes=16384,
                    seed=self.seed,
                    stop=self.stop_event,
                )
            finally:
                producer.close(timeout=30)
        except BaseException as e:  # noqa: BLE001 - handed to the test thread by join()
            self.error = e

    def running(self) -> bool:
        return self.thread.is_alive()

    def stop(self) -> None:
        self.stop_event.set()

    def join(self, timeout_s: float = 300) -> Any:
        self.thread.join(timeout_s)
        assert not self.thread.is_alive(), "the replay did not finish"
        if self.error is not None:
            raise self.error
        return self.report


@pytest.fixture
def e2e(kafka_bootstrap, e2e_topics, e2e_artifact, tmp_path, request) -> Callable[..., E2E]:
    def make(partitions: int = 4) -> E2E:
        name = request.node.name.replace("test_", "")[:40]
        return E2E(
            kafka_bootstrap, e2e_topics(name, partitions), f"e2e-{name}-{uuid.uuid4().hex[:8]}", e2e_artifact, tmp_path
        )

    return make


@pytest.fixture
def daemons() -> Iterable[list[DaemonProcess]]:
    """Daemons a test starts; any still running at the end are killed (and their log tails shown on failure)."""
    procs: list[DaemonProcess] = []
    yield procs
    for d in procs:
        if d.alive():
            d.proc.kill()
            d.proc.wait(timeout=30)


def compare_alerts(live: list[dict], expected: list[dict]) -> dict[str, Any]:
    """Counts for the report: live vs expected alert ids (a live id may repeat: at-least-once)."""
    live_ids, want = Counter(a["alert_id"] for a in live), Counter(a["alert_id"] for a in expected)
    return {
        "expected": len(expected),
        "live": len(live),
        "distinct_live": len(live_ids),
        "missing": sorted(set(want) - set(live_ids)),
        "unexpected": sorted(set(live_ids) - set(want)),
        "duplicates": sum(n - 1 for n in live_ids.values() if n > 1),
        "duplicated_ids": sum(1 for n in live_ids.values() if n > 1),
    }


def same_window(a: dict, b: dict) -> bool:
    """The facts of the window behind an alert: asset, source, time and score (state-independent)."""
    import math

    if a["asset"] != b["asset"] or a["source"] != b["source"]:
        return False
    return a["source"] is None or (
        a["ts_ms"] == b["ts_ms"] and math.isclose(a["score"], b["score"], rel_tol=1e-4, abs_tol=1e-6)
    )


def same_alert(a: dict, b: dict) -> bool:
    """Two alerts with one id say the same thing: asset, event and episode; for a window's alert also its source,
    time and score (to float noise: a batch of one row takes another matmul kernel). A sweep close (no window) carries
    the watermark of the batch that closed it, which depends on batch boundaries, so only its episode is compared."""
    import math

    same = (
        a["asset"] == b["asset"]
        and a["episode"]["event"] == b["episode"]["event"]
        and a["episode"]["episode_id"] == b["episode"]["episode_id"]
        and a["source"] == b["source"]
    )
    if not same or a["source"] is None:
        return same
    return a["ts_ms"] == b["ts_ms"] and math.isclose(a["score"], b["score"], rel_tol=1e-4, abs_tol=1e-6)
