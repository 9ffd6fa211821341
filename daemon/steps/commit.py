"""The end of the chain: offsets are committed only once everything the batch produced is acknowledged.

The order, every time:
  1. flush alerts: the sink step has handed every alert of the batch to the producer (it sends in ``submit``);
  2. flush the producer: wait until every alert and dead letter of the pending batches is acknowledged (acks=all),
     and check that none of those sends failed;
  3. commit offsets: the per-partition next offsets the batches carried from the batcher.

A flush that does not finish within ``flush_timeout_s`` (broker away) leaves the batches pending; the loop keeps
polling (paused past ``max_in_flight``) and retries in ``poll``. A send that failed is fatal: the daemon stops
without committing, and a restart reprocesses from the last commit (at-least-once; alert ids repeat).

``waiting_s`` (how long the oldest uncommitted batch has waited) and ``last_failure`` are what /healthz reports: a
frozen broker shows as commits that keep failing, not as a daemon that stopped polling.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog
from kafka.errors import CommitFailedError, KafkaError, KafkaTimeoutError
from kafka.structs import OffsetAndMetadata, TopicPartition

from daemon.batch import Batch

log = structlog.get_logger("daemon.commit")

Offsets = dict[TopicPartition, int]


class DeliveryFailed(RuntimeError):
    """A dead letter or alert could not be delivered; committing past it would lose it."""


def merge_offsets(batches: list[Batch]) -> Offsets:
    out: Offsets = {}
    for b in batches:
        for tp, off in b.commit_offsets.items():
            if off > out.get(tp, -1):
                out[tp] = off
    return out


def as_commit(offsets: Offsets) -> dict[TopicPartition, OffsetAndMetadata]:
    return {tp: OffsetAndMetadata(off, "", -1) for tp, off in offsets.items()}


class CommitStep:
    next_step: None = None  # the end of the chain

    def __init__(
        self,
        producer: Any,
        commit: Callable[[Offsets, float], None],
        flush_timeout_s: float = 1.0,
        on_committed: Callable[[list[Batch], Offsets], None] | None = None,
    ) -> None:
        self.producer = producer
        self.commit = commit
        self.flush_timeout_s = flush_timeout_s
        self.on_committed = on_committed or (lambda batches, offsets: None)
        self.pending: list[Batch] = []
        self.last_failure: str | None = None  # why the last attempt did not commit; None after a commit
        self.defer = False  # set while draining on the consumer's IO thread, where only take_flushed may commit

    def in_flight(self) -> int:
        return sum(len(b) for b in self.pending)

    def waiting_s(self, now: float | None = None) -> float:
        """Seconds the oldest uncommitted batch has waited since it left the batcher (0 with nothing pending)."""
        return ((time.monotonic() if now is None else now) - self.pending[0].started) if self.pending else 0.0

    def submit(self, batch: Batch) -> None:
        self.pending.append(batch)
        if not self.defer:
            self._complete(self.flush_timeout_s)

    def poll(self) -> None:
        if self.pending and not self.defer:
            self._complete(0.05)

    def join(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._complete(left)
        return True

    def take_flushed(self, timeout_s: float) -> Offsets | None:
        """Steps 1 and 2 only, for a caller that must commit by other means (the rebalance listener, which runs on
        the consumer's IO thread): the offsets to commit, or None when the producer did not flush in time."""
        if not self._flush(timeout_s):
            return None
        done, self.pending = self.pending, []
        offsets = merge_offsets(done)
        self.on_committed(done, offsets)
        return offsets

    def drop(self) -> int:
        """Forget pending batches whose partitions were lost; they were never committed, so nothing is lost."""
        n, self.pending = self.in_flight(), []
        return n

    def _flush(self, timeout_s: float) -> bool:
        if not self.pending:
            return True
        try:
            self.producer.flush(timeout=max(timeout_s, 0.001))
        except KafkaTimeoutError:
            return False
        for batch in self.pending:
            for fut in batch.sends:
                if not fut.is_done:
                    return False
                if fut.exception is not None:
                    raise DeliveryFailed(f"a send of this batch failed: {fut.exception!r}")
        return True

    def _complete(self, timeout_s: float) -> bool:
        start = time.monotonic()
        if not self._flush(timeout_s):
            self.last_failure = "the producer did not flush in time (broker away or slow)"
            return False
        offsets = merge_offsets(self.pending)
        try:
            self.commit(offsets, max(0.5, timeout_s - (time.monotonic() - start)))
        except KafkaTimeoutError:
            log.warning("commit_timed_out", partitions=len(offsets))
            self.last_failure = "the offset commit timed out"
            return False
        except CommitFailedError as e:
            log.warning("commit_rejected_after_rebalance", error=str(e), partitions=len(offsets))
        except KafkaError as e:
            if not e.retriable:
                raise
            log.warning("commit_failed_retrying", error=repr(e), partitions=len(offsets))
            self.last_failure = f"the offset commit failed: {e!r}"
            return False
        done, self.pending = self.pending, []
        self.last_failure = None
        self.on_committed(done, offsets)
        return True
