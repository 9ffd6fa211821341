"""Turn scores into alarms with the per-asset SPOT/DSPOT thresholds (``pipelines.threshold.ThresholdBank``)."""
from __future__ import annotations

from typing import Any, Callable

from daemon.batch import Batch
from daemon.chain import PassStep, Step


class ThresholdStep(PassStep):
    def __init__(self, bank: Callable[[], Any], next_step: Step) -> None:
        self.bank = bank
        self.next_step = next_step

    def submit(self, batch: Batch) -> None:
        if batch.scored is not None:
            batch.alarms, batch.thresholds = self.bank().process(batch.windows.asset, batch.scored.score)
        self.next_step.submit(batch)
