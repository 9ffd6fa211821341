"""What happens when the group takes partitions away or hands new ones over.

kafka-python 3 runs rebalance listeners on the consumer's IO thread while the main loop is blocked inside
``poll`` (or ``close``), so the chain is idle and safe to drive from here, but a blocking consumer call would
deadlock. On revoke the listener therefore finishes everything in flight through the chain (score, threshold,
alerts, producer flush) and then commits with ``commit_async``, awaited on the IO loop. On loss (evicted from the
group) nothing can be committed: in-flight records are dropped and the new owner reprocesses them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from kafka.consumer.subscription_state import AsyncConsumerRebalanceListener
from kafka.structs import TopicPartition

from daemon.steps.commit import Offsets, as_commit

log = structlog.get_logger("daemon.rebalance")


class Rebalance(AsyncConsumerRebalanceListener):  # type: ignore[misc]  # kafka-python ships no type stubs
    def __init__(
        self,
        consumer: Any,
        drain: Callable[[], Offsets | None],
        discard: Callable[[Any], int],
        on_assigned: Callable[[set[TopicPartition]], None],
    ) -> None:
        self.consumer = consumer
        self.drain = drain
        self.discard = discard
        self.on_assigned = on_assigned
        self.generations = 0
        self.revokes = 0
        self.revoke_commits = 0
        self.revoke_failures = 0

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if not revoked:
            return
        self.revokes += 1
        try:
            offsets = self.drain()
        except Exception:
            self.revoke_failures += 1
            log.exception("revoke_drain_failed", partitions=len(revoked))
            self.discard(revoked)
            return
        if offsets is None:
            self.revoke_failures += 1
            log.warning("revoke_flush_timed_out", partitions=sorted(str(tp) for tp in revoked))
            self.discard(revoked)
            return
        if offsets:
            try:
                await self.consumer.commit_async(as_commit(offsets))
                self.revoke_commits += 1
                log.info("revoke_committed", offsets={f"{tp.topic}:{tp.partition}": o for tp, o in offsets.items()})
            except Exception as e:
                self.revoke_failures += 1
                log.warning("revoke_commit_failed", error=repr(e))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.generations += 1
        log.info("partitions_assigned", partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in assigned))
        self.on_assigned(set(assigned))

    async def on_partitions_lost(self, lost: set[TopicPartition]) -> None:
        dropped = self.discard(lost)
        log.warning(
            "partitions_lost", partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in lost), dropped_in_flight=dropped
        )
