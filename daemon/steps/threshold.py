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
                 persistence: Callable[[], Any] = lambda: None) -> None:
        self.bank = bank
        self.persistence = persistence
        self.next_step = next_step

    def submit(self, batch: Batch) -> None:
        if batch.scored is not None:
            batch.alarms, batch.thresholds = decide(self.bank(), self.persistence(), batch.windows.asset,
                                                    batch.scored.score)
        self.next_step.submit(batch)
