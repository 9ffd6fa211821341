"""Start-up faults on the real broker: the broker down when the daemon starts, an output topic that does not exist."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from daemon.config import load_config
from tests.daemon.conftest import DIM
from tests.daemon.kafka_io import good_windows, produce

pytestmark = pytest.mark.kafka


def _healthz(port: int) -> tuple[int, str] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return None


def test_broker_down_at_start_serves_503_with_the_reason_and_consumes_once_it_is_back(
    make_config, start_daemon, kafka_bootstrap, kafka_broker_control
):
    path = make_config("late-broker", kafka={"connect_timeout_s": 120})
    cfg = load_config(path)
    kafka_broker_control.stop()
    run = start_daemon(path)
    d = run.daemon
    run.wait_for(lambda: d.http is not None and "connecting to Kafka" in d.phase, timeout=30, what="the retry loop")
    code, body = _healthz(d.http.port)
    assert code == 503 and "connecting to Kafka on " + kafka_bootstrap in body and "attempt" in body, body
    time.sleep(8)  # a few attempts with the broker away
    assert run.thread.is_alive() and d.consumer is None
    kafka_broker_control.start()
    run.wait_for(lambda: d.phase == "consuming", timeout=120, what="consuming after the broker came back")
    produce(kafka_bootstrap, cfg.kafka.input_topic, good_windows(50, DIM, anomaly_every=0))
    run.wait_for(lambda: d.metrics.scored._value.get() >= 50, what="windows scored")
    assert _healthz(d.http.port)[0] == 200
    assert run.stop() == 0


@pytest.mark.parametrize("missing", ["alert_topic", "dead_letter_topic"])
def test_a_missing_output_topic_stops_the_start_with_exit_2_naming_it(make_config, start_daemon, missing):
    from kafka import KafkaConsumer

    from daemon.service import EXIT_NO_MODEL
    from daemon.startup import TopicMissing, check_topics

    path = make_config("no-topic", kafka={missing: "latentwatch-test-never-created"})
    started = time.monotonic()
    run = start_daemon(path)
    run.thread.join(60)
    assert run.rc == EXIT_NO_MODEL and time.monotonic() - started < 30  # not after a 60 s blocked send
    cfg = load_config(path)
    consumer = KafkaConsumer(bootstrap_servers=list(cfg.kafka.bootstrap_servers))
    try:
        with pytest.raises(TopicMissing, match=f"kafka.{missing} 'latentwatch-test-never-created' does not exist"):
            check_topics(consumer, cfg.kafka)
    finally:
        consumer.close()


def _broker_pid() -> int:
    import os
    from pathlib import Path

    data = Path(os.environ.get("LATENTWATCH_KAFKA_DATA", Path(__file__).resolve().parents[2] / "var" / "kafka"))
    return int((data / "kafka.pid").read_text())


def test_healthz_turns_503_while_commits_fail_on_a_frozen_broker_and_200_after(
    make_config, start_daemon, kafka_bootstrap
):
    """The broker frozen (SIGSTOP) under load: /healthz stayed 200 while 50 commits timed out."""
    import os
    import signal

    path = make_config("frozen", http={"enabled": True, "port": 0, "unhealthy_after_s": 3})
    cfg = load_config(path)
    produce(kafka_bootstrap, cfg.kafka.input_topic, good_windows(20_000, DIM, anomaly_every=0))
    run = start_daemon(path)
    d = run.daemon
    run.wait_for(lambda: d.metrics.scored._value.get() >= 500, what="scoring under way")
    # on a loaded machine a batch can wait past the 3 s limit for a moment: healthy first, then frozen
    run.wait_for(lambda: (_healthz(d.http.port) or (0,))[0] == 200, timeout=60, what="healthy before the freeze")
    pid = _broker_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        seen: list = []

        def unhealthy() -> bool:
            h = _healthz(d.http.port)
            seen.append(h)
            return h is not None and h[0] == 503

        run.wait_for(unhealthy, timeout=30, what="503 while the broker is frozen")
        # which stall shows first depends on where the freeze caught the loop and how loaded the machine is: a
        # commit waiting, a poll blocked, or (past the 10 s session timeout) the assignment lost; each is a 503
        assert any(r in seen[-1][1] for r in ("to be committed", "no poll for", "waiting for a partition")), seen[-1]
    finally:
        os.kill(pid, signal.SIGCONT)
    run.wait_for(lambda: (_healthz(d.http.port) or (0,))[0] == 200, timeout=90, what="healthy again")
    assert run.stop() == 0
