"""What the daemon would publish for a given list of input records, computed without Kafka.

The records (topic, partition, offset, key, value: e.g. read back from the input topic, or from a replay's delivery
reports) go through the daemon itself: ``daemon.service.Daemon`` with its own chain (decode, score, threshold, alert
policy, sink, commit), its own threshold bank and episode tracker factories, fed by an in-memory consumer and writing
into an in-memory producer. Nothing is re-implemented, so a live run over the same records, with the same artifact
and the same threshold and episode settings, must publish the same alerts with the same ids.

Each asset's detector and episode state only sees its own windows, in partition order, so any interleaving of the
partitions gives the same alerts; this one hands out the partitions round-robin, ``max_records`` at a time.
"""
from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import orjson
from kafka.structs import TopicPartition

from daemon.config import Config


@dataclass(frozen=True)
class Record:
    """The fields of kafka-python's ConsumerRecord the daemon reads."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list = field(default_factory=list)
    timestamp: int = -1


class _Done:
    """A producer future that has already succeeded."""

    is_done = True
    exception = None
    succeeded = lambda self: True  # noqa: E731

    def add_callback(self, fn: Any, *a: Any, **kw: Any) -> "_Done":
        return self

    def add_errback(self, fn: Any, *a: Any, **kw: Any) -> "_Done":
        return self


class MemoryProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, list]] = []

    def send(self, topic: str, value: bytes | None = None, key: bytes | None = None, headers: list | None = None,
             **_: Any) -> _Done:
        self.sent.append((topic, key, value, list(headers or [])))
        return _Done()

    def flush(self, timeout: float | None = None) -> None:
        return None

    def close(self, timeout: float | None = None) -> None:
        return None


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
        self._paused: set = set()
        self._turn = 0

    def subscribe(self, topics: Sequence[str], listener: Any = None) -> None:
        self.listener = listener

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

    def commit(self, offsets: dict, timeout_ms: int | None = None) -> None:
        for tp, om in offsets.items():
            self.committed[tp] = max(self.committed.get(tp, 0), om.offset)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.queues[tp] = [r for r in self.records.get(tp, []) if r.offset >= offset]

    def position(self, tp: TopicPartition) -> int:
        q = self.queues.get(tp)
        return q[0].offset if q else self.ends.get(tp, 0)

    async def commit_async(self, offsets: dict) -> None:
        self.commit(offsets)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.ends.get(tp)

    def pause(self, *tps: TopicPartition) -> None:
        self._paused.update(tps)

    def resume(self, *tps: TopicPartition) -> None:
        self._paused.difference_update(tps)

    def paused(self) -> set:
        return set(self._paused)

    def close(self, autocommit: bool = False, timeout_ms: int | None = None) -> None:
        return None


@dataclass
class OfflineRun:
    exit_code: int
    alerts: list[dict[str, Any]]  # decoded alert messages, in publication order
    dead_letters: list[tuple[int, int, str]]  # (partition, offset, reason) of every dead-lettered record
    committed: dict[int, int]  # partition -> next offset, as the daemon committed it
    scored: int

    @property
    def alert_ids(self) -> Counter:
        return Counter(a["alert_id"] for a in self.alerts)


def offline_config(cfg: Config, state_dir: Path, artifact_path: Path | None = None) -> Config:
    """The live config with what must differ offline: no HTTP, a fresh checkpoint file, quiet logs, the model pinned
    to ``artifact_path`` when given (the live daemon's version, so both score with the same one)."""
    art = cfg.artifact if artifact_path is None else dataclasses.replace(cfg.artifact, path=Path(artifact_path))
    return dataclasses.replace(
        cfg, artifact=art,
        http=dataclasses.replace(cfg.http, enabled=False),
        logging=dataclasses.replace(cfg.logging, level="WARNING"),
        threshold=dataclasses.replace(cfg.threshold, checkpoint_path=Path(state_dir) / "offline-state.json"))


def score_offline(cfg: Config, records: Sequence[Any], artifact_path: Path | None = None) -> OfflineRun:
    """Run ``records`` through the daemon's chain with in-memory Kafka clients; return what it published."""
    from daemon.service import Daemon
    from daemon.signals import Flags

    with tempfile.TemporaryDirectory(prefix="latentwatch-offline-") as tmp:
        flags = Flags()
        consumer = MemoryConsumer(records, lambda: flags.request_stop("offline-done"))
        producer = MemoryProducer()
        d = Daemon(offline_config(cfg, Path(tmp), artifact_path), flags=flags,
                   clients=lambda c: (consumer, producer))
        code = d.run()
    alerts = [orjson.loads(v) for t, _, v, _ in producer.sent if t == cfg.kafka.alert_topic]
    dead = []
    for t, _, _, headers in producer.sent:
        if t == cfg.kafka.dead_letter_topic:
            h = {k: v.decode() for k, v in headers}
            dead.append((int(h["source_partition"]), int(h["source_offset"]), h["reason"]))
    return OfflineRun(exit_code=code, alerts=alerts, dead_letters=sorted(dead),
                      committed={tp.partition: o for tp, o in consumer.committed.items()},
                      scored=int(d.metrics.registry.get_sample_value("latentwatch_windows_scored_total") or 0))
