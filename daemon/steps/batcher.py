"""Micro-batching: collect polled records until ``max_records`` or ``max_wait_ms`` since the first one.

The batcher comes before decoding so that validation and scoring see a whole batch (one numpy conversion, one
model call). It never holds more than ``max_records``: the loop asks ``room()`` before polling.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from daemon.batch import Batch
from daemon.chain import Step


class Batcher:
    def __init__(
        self, max_records: int, max_wait_ms: int, next_step: Step, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.next_step = next_step
        self.clock = clock
        self.configure(max_records, max_wait_ms)
        self._records: list[Any] = []
        self._first_at: float | None = None

    def configure(self, max_records: int, max_wait_ms: int) -> None:
        self.max_records = max_records
        self.max_wait_s = max_wait_ms / 1000.0

    def __len__(self) -> int:
        return len(self._records)

    def room(self) -> int:
        return max(0, self.max_records - len(self._records))

    def add(self, records: Iterable[Any]) -> None:
        before = len(self._records)
        self._records.extend(records)
        if before == 0 and self._records:
            self._first_at = self.clock()

    def time_left_ms(self) -> int:
        if self._first_at is None:
            return int(self.max_wait_s * 1000)
        return max(0, round((self._first_at + self.max_wait_s - self.clock()) * 1000))

    def ready(self) -> bool:
        if not self._records:
            return False
        if self._first_at is None:
            raise RuntimeError("batcher holds records without the time the first of them arrived")
        return len(self._records) >= self.max_records or self.clock() >= self._first_at + self.max_wait_s

    def poll(self) -> None:
        while self.ready():
            self._emit()
        self.next_step.poll()

    def emit_all(self) -> None:
        while self._records:
            self._emit()

    def join(self, timeout_s: float) -> bool:
        self.emit_all()
        return self.next_step.join(timeout_s)

    def discard(self, partitions: Iterable[Any]) -> int:
        """Drop held records of partitions this consumer no longer owns (their offsets were never committed)."""
        gone = {(tp.topic, tp.partition) for tp in partitions}
        keep = [r for r in self._records if (r.topic, r.partition) not in gone]
        dropped = len(self._records) - len(keep)
        self._records = keep
        if not keep:
            self._first_at = None
        return dropped

    def _emit(self) -> None:
        records = self._records[: self.max_records]
        self._records = self._records[self.max_records :]
        self._first_at = self.clock() if self._records else None
        self.next_step.submit(Batch(records=records))
