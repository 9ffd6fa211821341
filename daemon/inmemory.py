"""In-memory stand-ins for kafka-python's consumer, producer and records: the daemon's chain run without a broker.

``MemoryConsumer`` hands out given records partition by partition (round-robin, in offset order), runs the
rebalance listener's assignment on the first poll, keeps commits, seeks, pauses and positions; ``MemoryProducer``
keeps what was sent. Used by the offline run (``daemon.offline``) and by the tests, which need no other stand-ins
for the Kafka clients.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka.errors import KafkaTimeoutError
from kafka.future import Future
from kafka.structs import TopicPartition

Headers = list[tuple[str, bytes]]  # a Kafka record's headers: (name, value) pairs


@dataclass(frozen=True)
class Record:
    """The fields of kafka-python's ConsumerRecord the daemon reads."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    timestamp: int = -1


class MemoryProducer:
    """Keeps every send as (topic, key, value, headers); each returns kafka-python's own future, already succeeded.

    ``fail``: every send raises it (a producer that refuses at once); ``stuck = True``: sends never complete and a
    flush times out (a broker that stopped acknowledging)."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, Headers | None]] = []
        self.fail = fail
        self.stuck = False

    def send(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, headers: Headers | None = None, **_: Any
    ) -> Future:
        if self.fail is not None:
            raise self.fail
        self.sent.append((topic, key, value, headers))
        f = Future()
        if not self.stuck:
            f.success(None)
        return f

    def flush(self, timeout: float | None = None) -> None:
        if self.stuck:
            time.sleep(min(timeout or 0, 0.01))
            raise KafkaTimeoutError("flush")

    def close(self, timeout: float | None = None) -> None:
        return None


class _EveryTopic:
    """What an in-memory cluster holds: every topic (a topic exists once something is written to it)."""

    def __contains__(self, topic: object) -> bool:
        return isinstance(topic, str)


EVERY_TOPIC = _EveryTopic()


class MemoryConsumer:
    """Hands out the records partition by partition, in offset order; asks the daemon to stop when all are out."""

    def __init__(self, records: Iterable[Any], stop: Any) -> None:
        by_tp: dict[TopicPartition, list[Any]] = defaultdict(list)
        for r in records:
            by_tp[TopicPartition(r.topic, r.partition)].append(r)
        self.records = {tp: sorted(rs, key=lambda r: r.offset) for tp, rs in sorted(by_tp.items())}
        self.queues = {tp: list(rs) for tp, rs in self.records.items()}
        self.ends = {tp: rs[-1].offset + 1 for tp, rs in self.queues.items()}
        self.stop = stop
        self.listener: Any = None
        self.committed: dict[TopicPartition, int] = {}
        self._paused: set[TopicPartition] = set()
        self._turn = 0

    def subscribe(self, topics: Sequence[str], listener: Any = None) -> None:
        self.listener = listener

    def topics(self) -> _EveryTopic:
        return EVERY_TOPIC

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {tp.partition for tp in self.queues if tp.topic == topic}

    def poll(self, timeout_ms: int = 0, max_records: int = 500) -> dict[TopicPartition, list[Any]]:
        if self.listener is not None:
            listener, self.listener = self.listener, None
            asyncio.run(listener.on_partitions_assigned(set(self.queues)))
        live = [tp for tp, q in self.queues.items() if q and tp not in self._paused]
        if not live:
            if not any(self.queues.values()):
                self.stop()
            return {}
        tp = live[self._turn % len(live)]
        self._turn += 1
        out, self.queues[tp] = self.queues[tp][:max_records], self.queues[tp][max_records:]
        return {tp: out}

    def commit(self, offsets: dict[TopicPartition, Any], timeout_ms: int | None = None) -> None:
        for tp, om in offsets.items():
            self.committed[tp] = max(self.committed.get(tp, 0), om.offset)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.queues[tp] = [r for r in self.records.get(tp, []) if r.offset >= offset]

    def position(self, tp: TopicPartition) -> int:
        q = self.queues.get(tp)
        return int(q[0].offset) if q else self.ends.get(tp, 0)

    async def commit_async(self, offsets: dict[TopicPartition, Any]) -> None:
        self.commit(offsets)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.ends.get(tp)

    def pause(self, *tps: TopicPartition) -> None:
        self._paused.update(tps)

    def resume(self, *tps: TopicPartition) -> None:
        self._paused.difference_update(tps)

    def paused(self) -> set[TopicPartition]:
        return set(self._paused)

    def close(self, autocommit: bool = False, timeout_ms: int | None = None) -> None:
        return None
