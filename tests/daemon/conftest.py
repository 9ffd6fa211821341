"""Fixtures for the daemon's Kafka tests: one real artifact (trained once per session), configs, topic helpers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

DIM = 8


@pytest.fixture(scope="session")
def artifact_root(tmp_path_factory) -> Path:
    """A real, verified artifact (``pipelines.fit.fit_artifact``) on small synthetic normal data."""
    from pipelines.fit import TrainSpec, fit_artifact

    root = tmp_path_factory.mktemp("artifacts")
    X = np.random.default_rng(0).normal(size=(1000, DIM))
    fit_artifact(X, root, TrainSpec(hidden=(16,), latent=4, epochs=15, patience=5, device="cpu", k=5), seed=0)
    return root


@pytest.fixture
def make_config(tmp_path, kafka_bootstrap, kafka_topics, artifact_root) -> Callable[..., Path]:
    """Write a daemon config for fresh topics; returns its path. Overrides are merged per section."""

    def make(name: str = "daemon", **sections: dict[str, Any]) -> Path:
        doc: dict[str, Any] = {
            "kafka": {
                "bootstrap_servers": [kafka_bootstrap],
                "input_topic": kafka_topics(f"{name}-in"),
                "alert_topic": kafka_topics(f"{name}-alerts", partitions=1),
                "dead_letter_topic": kafka_topics(f"{name}-dl", partitions=1),
                "group_id": f"{name}-{tmp_path.name}",
                "client_id": name,
                "consumer": {"session_timeout_ms": 10000, "heartbeat_interval_ms": 1000},
            },
            "batching": {"max_records": 500, "max_wait_ms": 50, "max_in_flight": 2000},
            "artifact": {"root": str(artifact_root), "check_interval_s": 1},
            "threshold": {
                "method": "spot",
                "q": 1e-3,
                "level": 0.9,
                "checkpoint_path": str(tmp_path / "state" / f"{name}.json"),
                "checkpoint_interval_s": 1,
            },
            "episodes": {"quiet_windows": 3, "quiet_seconds": None, "update_every": 2},
            "dead_letter": {"max_bytes": 4096, "window": 1000, "max_ratio": 0.5, "max_consecutive": 200},
            "http": {"enabled": True, "port": 0},
            "logging": {"level": "INFO", "json": True},
            "shutdown_timeout_s": 20,
        }
        for section, values in sections.items():
            if isinstance(values, dict) and isinstance(doc.get(section), dict):
                doc[section] = {**doc[section], **values}
            else:
                doc[section] = values
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(doc))
        return path

    return make


class RunningDaemon:
    """A Daemon on a background thread (signal handlers stay with the test's main thread)."""

    def __init__(self, daemon: Any) -> None:
        self.daemon = daemon
        self.rc: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.rc = self.daemon.run()

    def wait_for(self, cond: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond():
                return
            if not self.thread.is_alive():
                raise AssertionError(f"daemon exited with {self.rc} while waiting for {what}")
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")

    def stop(self, timeout: float = 30.0) -> int | None:
        self.daemon.flags.request_stop("test")
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "daemon did not stop within the bound"
        return self.rc


@pytest.fixture
def start_daemon():
    from daemon.config import load_config
    from daemon.service import Daemon

    running: list[RunningDaemon] = []

    def start(config_path: Path, **kw: Any) -> RunningDaemon:
        r = RunningDaemon(Daemon(load_config(config_path), **kw))
        running.append(r)
        return r

    yield start
    for r in running:
        if r.thread.is_alive():
            r.daemon.flags.request_stop("teardown")
            r.thread.join(30)
