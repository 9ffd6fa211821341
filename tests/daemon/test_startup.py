"""The connect loop's bounds (daemon/startup.py); the broker itself is in test_kafka_startup.py."""

from __future__ import annotations

import pytest
from kafka.errors import KafkaTimeoutError

from daemon.config import KafkaConfig
from daemon.startup import BrokerUnavailable, StopRequested, connect


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _failing(n: int, clock: Clock):
    calls = []

    def make():
        calls.append(clock.t)
        clock.t += 5.0  # each attempt takes its bootstrap timeout
        if len(calls) <= n:
            raise KafkaTimeoutError("Unable to bootstrap from 127.0.0.1:1")
        return "clients"

    return make, calls


def test_connect_retries_with_backoff_and_reports_each_wait():
    clock, waits, reasons = Clock(), [], []
    make, calls = _failing(4, clock)

    def wait(s):
        waits.append(s)
        clock.t += s
        return False

    assert connect(make, KafkaConfig(connect_timeout_s=120), reasons.append, wait, clock) == "clients"
    assert len(calls) == 5 and waits == [0.5, 1.0, 2.0, 4.0]
    assert "attempt 4 failed" in reasons[-1] and "Unable to bootstrap" in reasons[-1]


def test_connect_gives_up_after_the_timeout_naming_the_servers():
    clock = Clock()
    make, calls = _failing(10_000, clock)

    def wait(s):
        clock.t += s
        return False

    with pytest.raises(BrokerUnavailable, match=r"127\.0\.0\.1:1 within kafka\.connect_timeout_s 30"):
        connect(
            make, KafkaConfig(bootstrap_servers=("127.0.0.1:1",), connect_timeout_s=30), lambda why: None, wait, clock
        )
    assert clock.t <= 30 + 5  # at most one attempt past the deadline


def test_a_stop_request_while_connecting_ends_the_loop():
    clock = Clock()
    make, calls = _failing(10_000, clock)
    with pytest.raises(StopRequested):
        connect(make, KafkaConfig(), lambda why: None, lambda s: True, clock)
    assert len(calls) == 1


def test_the_record_limit_is_the_smaller_of_producer_and_topics_and_survives_a_broker_that_will_not_say():
    from daemon.startup import output_record_limit

    cfg = KafkaConfig()
    asked = []
    assert output_record_limit(cfg, 1_048_576, lambda c, t: asked.append(t) or 200_000) == 200_000
    assert asked == [[cfg.alert_topic, cfg.dead_letter_topic]]
    assert output_record_limit(cfg, 1_048_576, lambda c, t: 5_000_000) == 1_048_576
    assert output_record_limit(cfg, 1_048_576, lambda c, t: None) == 1_048_576

    def refused(c, t):
        raise PermissionError("TopicAuthorizationFailed")

    assert output_record_limit(cfg, 1_048_576, refused) == 1_048_576
