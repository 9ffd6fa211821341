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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka.errors import KafkaTimeoutError
from kafka.future import Future
from kafka.structs import OffsetAndMetadata, TopicPartition

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
    """Keeps every send as (topic, key, value, headers); each returns kafka-python's own future.

    By default a send is acknowledged at once. ``deferred=True``: sends are acknowledged by the next flush that
    succeeds, as a real producer's batches are; ``flush_timeouts`` = n: the next n flushes time out first.
    ``fail``: every send raises it (a producer that refuses at once); ``stuck = True``: sends never complete and
    every flush times out (a broker that stopped acknowledging). ``flushes`` counts flush calls."""

    def __init__(self, fail: Exception | None = None, deferred: bool = False) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, Headers | None]] = []
        self.fail = fail
        self.deferred = deferred
        self.stuck = False
        self.flush_timeouts = 0
        self.flushes = 0
        self._outstanding: list[Future] = []

    def send(
        self,
        topic: str = "",
        value: bytes | None = None,
        key: bytes | None = None,
        headers: Headers | None = None,
        **_: Any,
    ) -> Future:
        if self.fail is not None:
            raise self.fail
        self.sent.append((topic, key, value, headers))
        f = Future()
        if self.stuck or self.deferred:
            self._outstanding.append(f)
        else:
            f.success(None)
        return f

    def flush(self, timeout: float | None = None) -> None:
        self.flushes += 1
        if self.stuck or self.flush_timeouts:
            self.flush_timeouts = max(0, self.flush_timeouts - 1)
            time.sleep(min(timeout or 0, 0.01))
            raise KafkaTimeoutError("flush")
        outstanding, self._outstanding = self._outstanding, []
        for f in outstanding:
            if not f.is_done:
                f.success(None)

    def close(self, timeout: float | None = None) -> None:
        return None


class _EveryTopic:
    """What an in-memory cluster holds: every topic (a topic exists once something is written to it)."""

    def __contains__(self, topic: object) -> bool:
        return isinstance(topic, str)


EVERY_TOPIC = _EveryTopic()


class MemoryConsumer:
    """Hands out the records partition by partition, in offset order, as kafka-python's consumer would.

    ``stop`` (the offline run) is called once every record is out; without it (the tests) an idle poll waits its
    timeout like a broker with nothing new. The assignment is every partition of the records plus ``partitions``
    (a partition with nothing in it yet). Commits keep their history (``commits``) and what the group holds
    (``committed(tp)``, with its metadata, as the daemon reads it on a restore)."""

    def __init__(
        self,
        records: Iterable[Any],
        stop: Callable[[], None] | None = None,
        partitions: Iterable[TopicPartition] = (),
    ) -> None:
        by_tp: dict[TopicPartition, list[Any]] = defaultdict(list)
        for tp in partitions:
            by_tp[tp] = []
        for r in records:
            by_tp[TopicPartition(r.topic, r.partition)].append(r)
        self.records = {tp: sorted(rs, key=lambda r: r.offset) for tp, rs in sorted(by_tp.items())}
        self.queues = {tp: list(rs) for tp, rs in self.records.items()}
        self.ends = {tp: rs[-1].offset + 1 if rs else 0 for tp, rs in self.queues.items()}
        self.stop = stop
        self.listener: Any = None
        self.commits: list[dict[TopicPartition, int]] = []
        self._group: dict[TopicPartition, OffsetAndMetadata] = {}
        self._paused: set[TopicPartition] = set()
        self._turn = 0
        self.closed = False

    def subscribe(self, topics: Sequence[str], listener: Any = None) -> None:
        self.listener = listener

    def topics(self) -> _EveryTopic:
        return EVERY_TOPIC

    def assignment(self) -> set[TopicPartition]:
        return set(self.records)

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {tp.partition for tp in self.queues if tp.topic == topic}

    def poll(self, timeout_ms: int = 0, max_records: int = 500) -> dict[TopicPartition, list[Any]]:
        if self.listener is not None:
            listener, self.listener = self.listener, None
            asyncio.run(listener.on_partitions_assigned(set(self.queues)))
        live = [tp for tp, q in self.queues.items() if q and tp not in self._paused]
        if not live:
            if self.stop is None:
                time.sleep(timeout_ms / 1000)
            elif not any(self.queues.values()):
                self.stop()
            return {}
        tp = live[self._turn % len(live)]
        self._turn += 1
        out, self.queues[tp] = self.queues[tp][:max_records], self.queues[tp][max_records:]
        return {tp: out}

    def commit(self, offsets: dict[TopicPartition, Any], timeout_ms: int | None = None) -> None:
        self.commits.append({tp: om.offset for tp, om in offsets.items()})
        self._group.update(offsets)

    def committed(self, tp: TopicPartition, metadata: bool = False) -> Any:
        """The group's offset of ``tp``: an ``OffsetAndMetadata`` with ``metadata=True``, else the offset; None if
        never committed."""
        om = self._group.get(tp)
        if om is None:
            return None
        return om if metadata else om.offset

    @property
    def committed_offsets(self) -> dict[TopicPartition, int]:
        return {tp: om.offset for tp, om in self._group.items()}

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
        if autocommit:
            raise ValueError("close(autocommit=True): the daemon commits only what its chain has written")
        self.closed = True
