"""Turn scores into alarms: the per-asset SPOT/DSPOT thresholds (``pipelines.threshold.ThresholdBank``), then
persistence and hysteresis (``pipelines.threshold.persistence``), through ``decide``, the one function the SKAB
evaluation decides with too."""
from __future__ import annotations

from typing import Any, Callable

from daemon.batch import Batch
from daemon.chain import PassStep, Step
from pipelines.threshold.persistence import decide


class ThresholdStep(PassStep):
    def __init__(self, bank: Callable[[], Any], next_step: Step,
                 persistence: Callable[[], Any] = lambda: None, idle_expiry_s: float | None = None) -> None:
        self.idle_expiry_s = idle_expiry_s
        self.bank = bank
        self.persistence = persistence
        self.next_step = next_step

    def submit(self, batch: Batch) -> None:
        if batch.scored is not None:
            bank = self.bank()
            if self.idle_expiry_s is not None and hasattr(bank, "expire"):
                expired = bank.expire(batch.windows.asset, batch.windows.ts_ms / 1000.0, self.idle_expiry_s)
                if expired and self.persistence() is not None:
                    self.persistence().forget(expired)
            batch.alarms, batch.thresholds = decide(self.bank(), self.persistence(), batch.windows.asset,
                                                    batch.scored.score)
        self.next_step.submit(batch)
