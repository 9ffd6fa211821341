"""Producing windows and reading topics and committed offsets on the real broker, for the daemon's Kafka tests."""

from __future__ import annotations

from typing import Any

import numpy as np
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from tests.daemon.helpers import window


def produce(bootstrap: str, topic: str, items: list[tuple[bytes | None, bytes | None]]) -> None:
    p = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    try:
        for key, value in items:
            p.send(topic, key=key, value=value)
        p.flush(30)
    finally:
        p.close(5)


def good_windows(
    n: int, dim: int, assets: int = 5, anomaly_every: int = 50, start_ts: int = 1_714_564_800_000, seed: int = 1
) -> list[tuple[bytes, bytes]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        v = rng.normal(size=dim)
        if anomaly_every and i % anomaly_every == anomaly_every - 1:
            v = v + 25.0
        asset = f"asset-{i % assets}"
        out.append((asset.encode(), window(asset, ts=start_ts + i * 1000, values=v.tolist(), dim=dim)))
    return out


def read_all(bootstrap: str, topic: str, expect: int | None = None, timeout_ms: int = 5000) -> list[Any]:
    c = KafkaConsumer(
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=timeout_ms,
    )
    try:
        parts = c.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        out = []
        for m in c:
            out.append(m)
            if expect is not None and len(out) >= expect:
                break
        return out
    finally:
        c.close()


def committed_and_end(bootstrap: str, group: str, topic: str) -> tuple[dict[int, int | None], dict[int, int]]:
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or set())]
        end = {tp.partition: off for tp, off in c.end_offsets(tps).items()}
        committed = {tp.partition: c.committed(tp) for tp in tps}
        return committed, end
    finally:
        c.close(autocommit=False)


def all_committed(committed: dict[int, int | None], end: dict[int, int]) -> bool:
    """Every partition committed up to its end offset (an empty partition needs no commit)."""
    return committed.keys() == end.keys() and all((committed[p] or 0) == end[p] for p in end)
