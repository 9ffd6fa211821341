"""The two Kafka clients, built from the config: a group consumer with manual commits, an idempotent producer."""

from __future__ import annotations

from typing import Any

from kafka import KafkaConsumer, KafkaProducer

from daemon.config import KafkaConfig

# The broker may hold a fetch up to fetch_max_wait_ms (kafka-python's default: 500) when it cannot fill it at once,
# and kafka-python leaves partitions that still have buffered records out of its next fetch, so records can sit
# behind a parked request. At 2,000 windows/s that was the daemon's whole latency tail: produce-to-commit p99 601 ms
# with 500 while every batch committed within 100 ms of leaving the batcher; 143 ms with 50 (bench e2e, same day).
#
# A member that dies (kill -9) keeps its partitions until the broker's session timeout passes: kafka-python 3's default
# session_timeout_ms is 45,000, so after every crash the group sat 45 s without a consumer. 10,000 (heartbeats every
# 3,000, the broker's floor group.min.session.timeout.ms is 6,000) bounds that at 10 s; a daemon stalled past it (a
# long GC, a frozen broker) is taken out of the group and rejoins. bootstrap_timeout_ms bounds each connection attempt
# at start-up, so the retry loop (daemon/startup.py) reports and feeds the watchdog every few seconds.
CONSUMER_DEFAULTS: dict[str, Any] = {
    "fetch_max_wait_ms": 50,
    "session_timeout_ms": 10_000,
    "heartbeat_interval_ms": 3_000,
    "bootstrap_timeout_ms": 5_000,
}


def consumer_settings(cfg: KafkaConfig) -> dict[str, Any]:
    return {
        **CONSUMER_DEFAULTS,
        **cfg.consumer,
        "bootstrap_servers": list(cfg.bootstrap_servers),
        "group_id": cfg.group_id,
        "client_id": cfg.client_id,
        "enable_auto_commit": False,
        "auto_offset_reset": cfg.consumer.get("auto_offset_reset", cfg.auto_offset_reset),
        **cfg.security.client_kwargs(),
    }


# A micro-batch's alerts are flushed together, so the producer's own batches are as large as those; 256 KiB batches
# (kafka-python's default is 16 KiB) halved the producer's CPU per alert in a burst of 800-byte alerts.
PRODUCER_DEFAULTS: dict[str, Any] = {"batch_size": 262_144, "bootstrap_timeout_ms": 5_000}


def producer_settings(cfg: KafkaConfig) -> dict[str, Any]:
    return {
        **PRODUCER_DEFAULTS,
        **cfg.producer,
        "bootstrap_servers": list(cfg.bootstrap_servers),
        "client_id": f"{cfg.client_id}-producer",
        "acks": "all",
        "enable_idempotence": True,
        **cfg.security.client_kwargs(),
    }


def make_consumer(cfg: KafkaConfig) -> KafkaConsumer:
    return KafkaConsumer(**consumer_settings(cfg))


def make_producer(cfg: KafkaConfig) -> KafkaProducer:
    return KafkaProducer(**producer_settings(cfg))


def record_limit(cfg: KafkaConfig) -> int:
    """The largest record the producer sends (``max_request_size``); the daemon fits alerts and dead letters to it."""
    return int(
        {**PRODUCER_DEFAULTS, **cfg.producer}.get("max_request_size", KafkaProducer.DEFAULT_CONFIG["max_request_size"])
    )


def topics_record_limit(cfg: KafkaConfig, topics: list[str]) -> int | None:
    """The smallest ``max.message.bytes`` of ``topics`` as the broker reports it (a topic's own setting, or the
    broker's ``message.max.bytes``), or None when it cannot say; the broker refuses a larger record batch."""
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType

    admin = KafkaAdminClient(
        bootstrap_servers=list(cfg.bootstrap_servers),
        client_id=f"{cfg.client_id}-admin",
        request_timeout_ms=10_000,
        bootstrap_timeout_ms=5_000,
        **cfg.security.client_kwargs(),
    )
    try:
        got = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t, {"max.message.bytes": None}) for t in topics],
            config_filter="all",
        )
    finally:
        admin.close()
    values = [
        int(c["max.message.bytes"]["value"])
        for c in got.get("topic", {}).values()
        if c.get("max.message.bytes", {}).get("value") is not None
    ]
    return min(values) if values else None
