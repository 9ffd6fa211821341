"""The size of a Kafka record as the producer and the broker compare it to their limits, for what the daemon sends
(alerts, dead letters) to be cut to fit rather than refused."""

from __future__ import annotations

from kafka.record.default_records import DefaultRecordBatchBuilder


def record_size(key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> int:
    """An upper bound on the bytes one record takes in a batch (kafka-python's own estimate)."""
    return int(DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers))
