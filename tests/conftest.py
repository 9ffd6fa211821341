"""Top-level test fixtures: a real single-node Kafka broker (KRaft) run by scripts/kafka.sh.

Fixtures
  kafka_bootstrap        (session)  "127.0.0.1:<port>"; starts the broker if it does not answer and stops it
                                    at session end only if this fixture started it.
  kafka_topics           (function) factory make(name_prefix, partitions=4, configs=None) -> unique topic name;
                                    the topics are deleted after the test.
  kafka_broker_control   (function) .stop() / .start() / .restart() / .running() for broker-bounce tests;
                                    the broker is running again after the test whatever it did.

Every test that uses one of them is marked `kafka` automatically (select with -m kafka, leave out with
-m "not kafka"). A missing Java or Maven is a test error with a message, never a skip: CI must run these.
Port and data dir follow scripts/kafka.sh (LATENTWATCH_KAFKA_PORT, LATENTWATCH_KAFKA_DATA, ...).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
KAFKA_SH = REPO / "scripts" / "kafka.sh"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "kafka_bootstrap" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kafka)


class KafkaBroker:
    """Thin wrapper over scripts/kafka.sh; the script does the work, this reports its failures."""

    def __init__(self) -> None:
        self.bootstrap = f"127.0.0.1:{os.environ.get('LATENTWATCH_KAFKA_PORT', '19092')}"
        self.env = dict(os.environ)
        # The script's readiness check uses kafka-python: use the interpreter running the tests.
        self.env.setdefault("LATENTWATCH_PYTHON", sys.executable)

    def _run(self, command: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", str(KAFKA_SH), command], env=self.env, capture_output=True, text=True, timeout=timeout
        )

    def running(self) -> bool:
        return self._run("status", timeout=60).returncode == 0

    def start(self) -> str:
        if shutil.which("java") is None:
            pytest.fail(
                "Kafka tests need Java 17+ on PATH (e.g. apt-get install openjdk-17-jre-headless) and, "
                "for the first `scripts/kafka.sh fetch`, Maven (apt-get install maven).",
                pytrace=False,
            )
        proc = self._run("start")
        if proc.returncode != 0:
            pytest.fail(
                f"`scripts/kafka.sh start` failed (exit {proc.returncode}):\n{proc.stderr}{proc.stdout}", pytrace=False
            )
        return self.bootstrap

    def stop(self) -> None:
        proc = self._run("stop", timeout=180)
        if proc.returncode != 0:
            pytest.fail(
                f"`scripts/kafka.sh stop` failed (exit {proc.returncode}):\n{proc.stderr}{proc.stdout}", pytrace=False
            )

    def restart(self) -> str:
        self.stop()
        return self.start()


@pytest.fixture(scope="session")
def _kafka_broker():
    broker = KafkaBroker()
    started_here = not broker.running()
    if started_here:
        broker.start()
    yield broker
    # Under pytest-xdist other workers may still use it; the caller (scripts/test.sh) stops it then.
    if started_here and "PYTEST_XDIST_WORKER" not in os.environ:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(_kafka_broker) -> str:
    return _kafka_broker.bootstrap


def _admin(bootstrap: str):
    from kafka import KafkaAdminClient

    return KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="latentwatch-tests", request_timeout_ms=30000, bootstrap_timeout_ms=30000
    )


@pytest.fixture
def kafka_topics(kafka_bootstrap):
    created: list[str] = []

    def make(name_prefix: str, partitions: int = 4, configs: dict[str, str] | None = None) -> str:
        prefix = re.sub(r"[^A-Za-z0-9._-]", "-", name_prefix)[:180]
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        admin = _admin(kafka_bootstrap)
        try:
            admin.create_topics(
                {name: {"num_partitions": partitions, "replication_factor": 1, "configs": dict(configs or {})}}
            )
            created.append(name)
            admin.wait_for_topics([name], timeout_ms=60000)  # every partition has a leader
        finally:
            admin.close()
        return name

    yield make

    if created:
        try:
            admin = _admin(kafka_bootstrap)
            try:
                admin.delete_topics(created, raise_errors=False)
            finally:
                admin.close()
        except Exception as exc:  # the broker may be down after a failed bounce test
            warnings.warn(f"could not delete test topics {created}: {exc!r}", stacklevel=1)


class KafkaBrokerControl:
    """Stop and start the shared broker in the middle of a test. Data and committed offsets survive."""

    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker
        self.bootstrap = broker.bootstrap

    def stop(self) -> None:
        self._broker.stop()

    def start(self) -> str:
        return self._broker.start()

    def restart(self) -> str:
        return self._broker.restart()

    def running(self) -> bool:
        return self._broker.running()


@pytest.fixture
def kafka_broker_control(_kafka_broker, kafka_bootstrap):
    yield KafkaBrokerControl(_kafka_broker)
    if not _kafka_broker.running():  # leave it up for the tests that follow
        _kafka_broker.start()
