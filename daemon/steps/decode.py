"""Decode and validate a batch; route every rejected record to the dead-letter topic, then check the guard (a batch
that trips it still goes down the chain, so the daemon can commit it before it stops)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import structlog
from kafka.errors import KafkaError

from daemon.batch import Batch
from daemon.chain import PassStep, Step
from daemon.config import InputConfig
from daemon.dead_letter import DeadLetterGuard, DeadLetterLimitExceeded
from daemon.steps.commit import DeliveryFailed
from daemon.wire.records import decode_batch

log = structlog.get_logger("daemon.decode")


class DecodeStep(PassStep):
    def __init__(
        self,
        model: Callable[[], Any],
        max_bytes: int,
        send_dead_letter: Callable[[Any, Any], Any],
        guard: DeadLetterGuard,
        next_step: Step,
        on_dead_letter: Callable[[str], None] | None = None,
        limits: InputConfig | None = None,
    ) -> None:
        self.model = model
        self.max_bytes = max_bytes
        self.limits = limits or InputConfig()
        self.send_dead_letter = send_dead_letter
        self.guard = guard
        self.next_step = next_step
        self.on_dead_letter = on_dead_letter or (lambda reason: None)

    def submit(self, batch: Batch) -> None:
        batch.model = self.model()
        decoded = decode_batch(batch.records, batch.model.dim, self.max_bytes, self.limits)
        bad = np.zeros(len(batch.records), dtype=bool)
        for i, err in decoded.rejected:
            rec = batch.records[i]
            log.warning(
                "dead_letter",
                reason=err.reason,
                detail=err.detail,
                topic=rec.topic,
                partition=rec.partition,
                offset=rec.offset,
            )
            try:
                batch.sends.append(self.send_dead_letter(rec, err))
            except KafkaError as e:  # raised by send at once (no metadata within max_block_ms): exit 4, not 1
                raise DeliveryFailed(f"a dead letter could not be sent: {e!r}") from e
            self.on_dead_letter(err.reason)
            bad[i] = True
        batch.dead_letters = len(decoded.rejected)
        batch.windows = decoded.windows
        try:
            self.guard.observe(bad)
        except DeadLetterLimitExceeded:
            # finish the batch before the daemon stops (exit 3) and commits it: its dead letters are sent already,
            # and a restart at the last commit would publish them again and never commit its good windows
            self.next_step.submit(batch)
            raise
        self.next_step.submit(batch)
