"""The local Kafka broker (scripts/kafka.sh) does what the daemon relies on.

Idempotent producer with acks=all, a consumer group with manual commits, committed offsets read back
independently through the admin API, and data plus offsets surviving a broker stop/start.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

pytestmark = pytest.mark.kafka

N = 1000
PARTITIONS = 4


def produce(bootstrap: str, topic: str, n: int, start: int = 0) -> list:
    """Sends n JSON records keyed by asset; returns their RecordMetadata, in send order."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
    )
    try:
        futures = [
            producer.send(topic, key=f"asset-{i % 37}".encode(), value=json.dumps({"seq": i}).encode())
            for i in range(start, start + n)
        ]
        producer.flush(timeout=60)
        return [f.get(timeout=60) for f in futures]
    finally:
        producer.close(timeout=30)


def consume(bootstrap: str, topic: str, group: str, limit: int, timeout_s: float = 90) -> list:
    """Reads up to `limit` records in consumer group `group`, committing exactly what it processed
    (explicit offsets after every poll, as the daemon does after its sink has flushed)."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    records = []
    try:
        deadline = time.monotonic() + timeout_s
        while len(records) < limit and time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=500)
            processed = {}
            for tp, recs in batch.items():
                for rec in recs:
                    if len(records) == limit:
                        break
                    records.append(rec)
                    processed[tp] = OffsetAndMetadata(rec.offset + 1, "", -1)
            if processed:
                consumer.commit(processed)
    finally:
        consumer.close(autocommit=False)
    return records


def committed_offsets(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    try:
        offsets = admin.list_group_offsets({group: None})[group]
    finally:
        admin.close()
    return {tp.partition: om.offset for tp, om in offsets.items() if tp.topic == topic}


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        return {tp.partition: off for tp, off in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


def seq(record) -> int:
    return json.loads(record.value)["seq"]


def ids(records) -> list[tuple]:
    return sorted((r.partition, r.offset, r.key, seq(r)) for r in records)


def test_produce_consume_commit(kafka_bootstrap, kafka_topics):
    topic = kafka_topics("broker-roundtrip", partitions=PARTITIONS)
    metas = produce(kafka_bootstrap, topic, N)

    # Idempotent producer: every partition holds a gap-free run of offsets 0..count-1, no duplicates.
    per_partition = Counter(m.partition for m in metas)
    assert set(per_partition) == set(range(PARTITIONS))
    for p, count in per_partition.items():
        assert sorted(m.offset for m in metas if m.partition == p) == list(range(count))
    assert end_offsets(kafka_bootstrap, topic) == dict(per_partition)

    group = f"roundtrip-{uuid.uuid4().hex[:8]}"
    records = consume(kafka_bootstrap, topic, group, limit=N)
    assert len(records) == N
    assert sorted(seq(r) for r in records) == list(range(N))
    # Same key, same partition, in send order.
    by_key: dict[bytes, list[tuple[int, int, int]]] = {}
    for r in records:
        by_key.setdefault(r.key, []).append((r.partition, r.offset, seq(r)))
    for rows in by_key.values():
        assert len({p for p, _, _ in rows}) == 1
        seqs_in_offset_order = [s for _, _, s in sorted(rows)]
        assert seqs_in_offset_order == sorted(seqs_in_offset_order)

    assert committed_offsets(kafka_bootstrap, group, topic) == dict(per_partition)


def test_data_and_offsets_survive_broker_restart(kafka_bootstrap, kafka_topics, kafka_broker_control):
    topic = kafka_topics("broker-restart", partitions=PARTITIONS)
    produce(kafka_bootstrap, topic, N)

    group = f"restart-{uuid.uuid4().hex[:8]}"
    first = consume(kafka_bootstrap, topic, group, limit=600)
    assert len(first) == 600
    committed_before = committed_offsets(kafka_bootstrap, group, topic)
    assert sum(committed_before.values()) == 600
    all_before = consume(kafka_bootstrap, topic, f"reader-{uuid.uuid4().hex[:8]}", limit=N)
    assert len(all_before) == N

    kafka_broker_control.stop()
    assert not kafka_broker_control.running()
    kafka_broker_control.start()
    assert kafka_broker_control.running()

    # The log and the group's committed offsets are as they were.
    assert committed_offsets(kafka_bootstrap, group, topic) == committed_before
    all_after = consume(kafka_bootstrap, topic, f"reader-{uuid.uuid4().hex[:8]}", limit=N)
    assert ids(all_after) == ids(all_before)

    # The group resumes where it committed: exactly the other 400, nothing twice, then it is at the end.
    rest = consume(kafka_bootstrap, topic, group, limit=N - 600)
    assert sorted(seq(r) for r in first + rest) == list(range(N))
    ends = end_offsets(kafka_bootstrap, topic)
    assert committed_offsets(kafka_bootstrap, group, topic) == ends

    # And the broker takes writes again: offsets continue where the log ended.
    more = produce(kafka_bootstrap, topic, 100, start=N)
    for p in range(PARTITIONS):
        offsets = sorted(m.offset for m in more if m.partition == p)
        assert offsets == list(range(ends[p], ends[p] + len(offsets)))
    assert sum(end_offsets(kafka_bootstrap, topic).values()) == N + 100
