"""Start-up against Kafka: connect with backoff while /healthz says why, then check the output topics exist.

A broker that is down when the daemon starts is usually coming back (a reboot of both, a rolling restart): the
clients are made again with backoff (0.5 s doubling to 5 s) for ``kafka.connect_timeout_s``, each attempt bounded by
the clients' ``bootstrap_timeout_ms`` (5 s by default, ``daemon/kafka_clients.py``), while /healthz answers 503 with
the attempt count and the last error and the systemd watchdog keeps being fed. A missing alert or dead-letter topic
would otherwise block the first ``send`` for ``max_block_ms`` (60 s) and end in exit 1; it is a configuration error
that a restart does not fix, so the daemon stops with exit 2 naming the topic.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from kafka.errors import KafkaError

from daemon.config import KafkaConfig

T = TypeVar("T")


class BrokerUnavailable(RuntimeError):
    """No broker answered within ``kafka.connect_timeout_s``."""


class TopicMissing(RuntimeError):
    """An output topic the config names does not exist (exit 2: a person must create it or fix the config)."""


class StopRequested(Exception):
    """SIGTERM while still connecting."""


def connect(
    make: Callable[[], T],
    cfg: KafkaConfig,
    on_wait: Callable[[str], None],
    wait: Callable[[float], bool],
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """``make()``, retried on Kafka errors with backoff until ``cfg.connect_timeout_s`` has passed. ``on_wait(why)``
    runs before each pause; ``wait(seconds)`` pauses and returns True when the daemon was asked to stop."""
    deadline, pause, attempts = clock() + cfg.connect_timeout_s, 0.5, 0
    while True:
        attempts += 1
        try:
            return make()
        except KafkaError as e:
            left = deadline - clock()
            servers = ",".join(cfg.bootstrap_servers)
            if left <= 0:
                raise BrokerUnavailable(
                    f"no Kafka broker answered on {servers} within kafka.connect_timeout_s "
                    f"{cfg.connect_timeout_s:g} ({attempts} attempts; last: {e})"
                ) from e
            on_wait(
                f"connecting to Kafka on {servers}: attempt {attempts} failed ({e}); retrying for {left:.0f} s more"
            )
            if wait(min(pause, left)):
                raise StopRequested() from None
            pause = min(2 * pause, 5.0)


def check_topics(consumer: Any, cfg: KafkaConfig) -> None:
    """Raise ``TopicMissing`` naming every output topic the broker does not have (one metadata request)."""
    existing = consumer.topics()
    missing = [
        f"kafka.{key} {name!r}"
        for key, name in (("alert_topic", cfg.alert_topic), ("dead_letter_topic", cfg.dead_letter_topic))
        if name not in existing
    ]
    if missing:
        raise TopicMissing(
            f"{' and '.join(missing)} {'does' if len(missing) == 1 else 'do'} not exist on "
            f"{','.join(cfg.bootstrap_servers)}: create {'it' if len(missing) == 1 else 'them'} "
            "(the daemon does not create topics) or fix the config"
        )


def output_record_limit(
    cfg: KafkaConfig, producer_limit: int, topics_limit: Callable[[KafkaConfig, list[str]], int | None] | None = None
) -> int:
    """The record limit alerts and dead letters are cut to: the producer's, or the output topics'
    ``max.message.bytes`` where that is smaller (a larger record would fail after the send, exit 4 on every restart).
    A broker that does not answer the question leaves the producer's limit (logged)."""
    if topics_limit is None:
        from daemon.kafka_clients import topics_record_limit

        topics_limit = topics_record_limit
    try:
        limit = topics_limit(cfg, [cfg.alert_topic, cfg.dead_letter_topic])
    except Exception as e:  # no permission to describe configs, an old broker: not a reason to stop
        import structlog

        structlog.get_logger("daemon.startup").warning("topic_record_limit_unknown", error=repr(e))
        return producer_limit
    return producer_limit if limit is None else min(producer_limit, limit)
