"""Builds the step chain (arroyo's processing-strategy factory): batcher -> decode -> score -> threshold -> alert
policy -> sink -> commit, each step handing its batch to the next (``daemon.chain``).

The chain reads the decision state and the model through callables, so a model swap or a restored state is seen by
the next batch without rebuilding it. ``Chain`` is what the loop drives: ``join`` finishes everything in flight
(shutdown), ``join_for_revoke`` does the same without committing (a revoke: the rebalance listener commits),
``discard`` drops what belongs to partitions that are gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from daemon.batch import Batch
from daemon.dead_letter import DeadLetterGuard, dead_letter_headers, fit_record
from daemon.state import DecisionState
from daemon.steps.alert_policy import AlertPolicyStep
from daemon.steps.batcher import Batcher
from daemon.steps.commit import CommitStep, Offsets
from daemon.steps.decode import DecodeStep
from daemon.steps.score import ScoreStep
from daemon.steps.sink import SinkStep
from daemon.steps.threshold import ThresholdStep
from pipelines.protocols import ScoringModel

if TYPE_CHECKING:
    from daemon.config import Config


@dataclass(eq=False)
class Chain:
    batcher: Batcher
    decode: DecodeStep
    policy: AlertPolicyStep
    commit: CommitStep
    guard: DeadLetterGuard

    def __len__(self) -> int:
        """Windows in flight: held by the batcher or waiting to be committed."""
        return len(self.batcher) + self.commit.in_flight()

    def join(self, timeout_s: float) -> bool:
        """Push everything held through the chain and commit it; True when nothing is left in flight."""
        return self.batcher.join(timeout_s)

    def join_for_revoke(self, timeout_s: float) -> Offsets | None:
        """On the consumer's IO thread, while the loop waits in poll: finish everything in flight without committing;
        the offsets to commit (None when the producer did not flush in time)."""
        self.commit.defer = True
        try:
            self.batcher.emit_all()
        finally:
            self.commit.defer = False
        return self.commit.take_flushed(timeout_s)

    def discard(self, partitions: Iterable[Any]) -> int:
        return self.batcher.discard(partitions) + self.commit.drop()

    def configure(self, cfg: Config) -> None:
        """The settings a reload applies live."""
        self.batcher.configure(cfg.batching.max_records, cfg.batching.max_wait_ms)
        self.guard.configure(cfg.dead_letter.window, cfg.dead_letter.max_ratio, cfg.dead_letter.max_consecutive)
        self.decode.max_bytes = cfg.dead_letter.max_bytes


def build_chain(
    cfg: Config,
    producer: Any,
    model: Callable[[], ScoringModel],
    state: Callable[[], DecisionState],
    *,
    commit: Callable[[Offsets, float], None],
    on_committed: Callable[[list[Batch], Offsets], None],
    on_dead_letter: Callable[[str], None],
    record_limit: int,
) -> Chain:
    """Alerts and dead letters are cut to ``record_limit`` bytes (what the broker takes)."""
    d = cfg.dead_letter

    def send_dead_letter(record: Any, err: Any) -> Any:
        key, value, headers = fit_record(record.key, record.value, dead_letter_headers(record, err), record_limit)
        return producer.send(cfg.kafka.dead_letter_topic, value=value, key=key, headers=headers)

    guard = DeadLetterGuard(d.window, d.max_ratio, d.max_consecutive)
    commit_step = CommitStep(producer, commit, on_committed=on_committed)
    sink = SinkStep(producer, cfg.kafka.alert_topic, commit_step, record_limit)
    policy = AlertPolicyStep(lambda: state().tracker, lambda: state().bank, sink, lambda: state().watermarks)
    threshold = ThresholdStep(lambda: state().bank, policy, lambda: state().persistence, cfg.threshold.idle_expiry_s)
    decode = DecodeStep(
        model,
        d.max_bytes,
        send_dead_letter,
        guard,
        ScoreStep(threshold),
        on_dead_letter=on_dead_letter,
        limits=cfg.input,
    )
    batcher = Batcher(cfg.batching.max_records, cfg.batching.max_wait_ms, decode)
    return Chain(batcher, decode, policy, commit_step, guard)
