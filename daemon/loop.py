"""The consumer loop (arroyo's stream processor): poll, pause and resume for backpressure, rebalance.

One ``run_once``: pause or resume, poll at most what the batcher has room for, put the state's partitions back
where the state is, hand the records to the chain. On a revoke the rebalance listener calls the chain's
``join_for_revoke`` (everything in flight finished, then committed by the listener); on a loss the chain drops
what it holds of those partitions. Offsets are committed with this state's lineage in their metadata, which is how
a restart tells its own commits from another daemon's (``_resume_where_the_state_is``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog
from kafka.structs import OffsetAndMetadata, TopicPartition

from daemon.chain_factory import Chain
from daemon.metrics import Metrics
from daemon.rebalance import Rebalance
from daemon.state import DecisionState
from daemon.steps.commit import Offsets

if TYPE_CHECKING:
    from daemon.config import Config

log = structlog.get_logger("daemon")

# A rejoin among daemons that poll every <= 100 ms finishes within a few seconds; kafka-python 3's stalled rejoin
# (see recover_stalled_rejoin) never does. 15 s (was 30) halves what a stall costs, still above the 10 s session
# timeout, after which a member that truly stopped would be gone from the group anyway.
REJOIN_STALL_S = 15.0


class ConsumerLoop:
    def __init__(
        self,
        cfg: Callable[[], Config],
        consumer: Any,
        state: DecisionState,
        metrics: Metrics,
        new_consumer: Callable[[], Any],
        save_checkpoint: Callable[[], None],
    ) -> None:
        self.cfg = cfg  # the live config (a reload replaces it)
        self.consumer = consumer
        self.state = state
        self.metrics = metrics
        self.new_consumer = new_consumer  # for a stalled rejoin
        self.save_checkpoint = save_checkpoint
        self.chain: Chain | None = None
        self.assignment: set[TopicPartition] | None = None
        self.paused = False
        self.last_poll = 0.0
        self._unbased: set[TopicPartition] = set()  # assigned partitions whose start offset no checkpoint holds yet
        self._resume: Offsets = {}  # assigned partitions to put back where the state is (checked after a poll)
        self._revoked_at: float | None = None

    def commit(self, offsets: Offsets, timeout_s: float) -> None:
        self.consumer.commit(
            {tp: OffsetAndMetadata(o, self.state.lineage, -1) for tp, o in offsets.items()},
            timeout_ms=int(timeout_s * 1000),
        )

    def subscribe(self, chain: Chain) -> None:
        self.chain = chain
        self.rebalance = Rebalance(self.consumer, self._drain_for_revoke, chain.discard, self._on_assigned)
        self.consumer.subscribe([self.cfg().kafka.input_topic], listener=self.rebalance)

    @property
    def _chain(self) -> Chain:
        assert self.chain is not None, "subscribe first"
        return self.chain

    def run_once(self) -> None:
        chain, cfg = self._chain, self.cfg()
        self._backpressure(cfg.batching.max_in_flight)
        room = 0 if self.paused else chain.batcher.room()
        timeout = min(chain.batcher.time_left_ms() if len(chain.batcher) else 100, 100)
        if self._revoked_at is not None and time.monotonic() - self._revoked_at > REJOIN_STALL_S:
            self.recover_stalled_rejoin()
        records = self.consumer.poll(timeout_ms=timeout, max_records=max(1, room))
        self.last_poll = time.monotonic()
        if self._resume:
            self._resume_where_the_state_is(records)
        if self._unbased:
            self._base_new_partitions(records, cfg.shutdown_timeout_s)
        n = 0
        for recs in records.values():
            chain.batcher.add(recs)
            n += len(recs)
        if n:
            self.metrics.consumed.inc(n)
        chain.batcher.poll()

    def _backpressure(self, max_in_flight: int) -> None:
        in_flight = len(self._chain)
        over = in_flight >= max_in_flight
        if over and not self.paused and self.assignment:
            self.consumer.pause(*self.assignment)
            self.paused = True
            log.warning("backpressure_paused", in_flight=in_flight, partitions=len(self.assignment))
        elif not over and self.paused:
            self.consumer.resume(*self.consumer.paused())
            self.paused = False
            log.info("backpressure_resumed", in_flight=in_flight)
        self.metrics.paused.set(1 if self.paused else 0)
        self.metrics.in_flight.set(in_flight)

    def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        """The state has seen exactly the windows below ``state.committed`` (restored from the checkpoint, then
        moved by each commit), while the group's offsets may be further on (a kill -9 after a commit, before the
        next checkpoint) or a rebalance reset the position: seek every assigned partition the state knows back
        there, so state and position agree (those windows are scored again and their alerts repeat, same ids, same
        content). A partition the state does not know yet is based in ``_base_new_partitions`` on the loop's
        thread."""
        state = self.state
        state.committed = {tp: o for tp, o in state.committed.items() if tp in assigned}
        self._resume = dict(state.committed)
        self._unbased = set(assigned) - state.committed.keys()
        self._revoked_at = None
        self.assignment = assigned
        self.paused = False
        self._chain.policy.reset_watermark({(tp.topic, tp.partition) for tp in assigned})

    def _resume_where_the_state_is(self, records: dict[TopicPartition, Any]) -> None:
        """Seek each partition the state knows back to its offset, and drop what was polled from the group's
        position, when the group's offset is this state's own commit (its lineage in the metadata) or equals it. A
        commit by another daemon (the partition moved while this state was away) means the state is stale there:
        the partition continues from the group's offset, based afresh (at-least-once, as any rebalance)."""
        resume, self._resume = self._resume, {}
        for tp, offset in resume.items():
            group = self.consumer.committed(tp, metadata=True)
            if group is None or group.offset == offset or group.metadata == self.state.lineage:
                records.pop(tp, None)
                self.consumer.seek(tp, offset)
                log.info(
                    "resumed_from_checkpoint",
                    partition=f"{tp.topic}:{tp.partition}",
                    offset=offset,
                    group=None if group is None else group.offset,
                )
            else:
                log.warning(
                    "checkpoint_stale_for_partition",
                    partition=f"{tp.topic}:{tp.partition}",
                    checkpoint=offset,
                    group=group.offset,
                )
                self.state.committed.pop(tp, None)
                self._unbased.add(tp)

    def _base_new_partitions(self, records: dict[TopicPartition, Any], timeout_s: float) -> None:
        """Newly assigned partitions the state has seen nothing of: the offset it starts from there (the first
        record polled, else the consumer's position) goes into a checkpoint before any of their windows is
        processed, so a kill before the next periodic checkpoint restarts from there (not from the group's later
        commit) and from the state that saw none of them."""
        commit = self._chain.commit
        if commit.pending and not commit.join(timeout_s):  # none pending after a revoke drained
            log.warning("checkpoint_ahead_of_commits", in_flight=commit.in_flight())
        for tp in self._unbased:
            recs = records.get(tp)
            self.state.committed[tp] = recs[0].offset if recs else self.consumer.position(tp)
        self._unbased = set()
        self.save_checkpoint()

    def _drain_for_revoke(self) -> Offsets | None:
        self.assignment = None
        self._revoked_at = time.monotonic()
        return self._chain.join_for_revoke(min(10.0, self.cfg().shutdown_timeout_s))

    def recover_stalled_rejoin(self) -> None:
        """kafka-python 3 can revoke (a metadata change right after the first join, under load) and then never
        finish the rejoin: no assignment, no records, no error. A fresh consumer joins again; everything up to the
        revoke was committed by the revoke drain, and anything after it is read again (at-least-once)."""
        stalled = time.monotonic() - (self._revoked_at or time.monotonic())
        log.error("group_rejoin_stalled_recreating_consumer", seconds=round(stalled, 1))
        self.metrics.consumer_recreated.inc()
        try:
            self.consumer.close(autocommit=False, timeout_ms=5000)
        except Exception as e:
            log.warning("stalled_consumer_close_failed", error=repr(e))
        self.consumer = self.new_consumer()
        self._revoked_at = time.monotonic()
        self.subscribe(self._chain)
