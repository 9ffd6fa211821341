"""Turn scores into alarms: the per-asset SPOT/DSPOT thresholds (``pipelines.threshold.ThresholdBank``), then
persistence and hysteresis (``pipelines.threshold.persistence``), through ``decide``, the one function the SKAB
evaluation decides with too."""

from __future__ import annotations

from collections.abc import Callable

from daemon.batch import Batch
from daemon.chain import PassStep, Step
from pipelines.protocols import Decisions, Thresholds
from pipelines.threshold.persistence import decide


class ThresholdStep(PassStep):
    """``idle_expiry_s`` (event time; None: never) restarts an asset unseen that long from its calibration, and
    its persistence history with it."""

    def __init__(
        self,
        bank: Callable[[], Thresholds],
        next_step: Step,
        persistence: Callable[[], Decisions | None] = lambda: None,
        idle_expiry_s: float | None = None,
    ) -> None:
        self.idle_expiry_s = idle_expiry_s
        self.bank = bank
        self.persistence = persistence
        self.next_step = next_step

    def submit(self, batch: Batch) -> None:
        if batch.scored is not None and batch.windows is not None:
            bank, persistence = self.bank(), self.persistence()
            if self.idle_expiry_s is not None:
                expired = bank.expire(batch.windows.asset, batch.windows.ts_ms / 1000.0, self.idle_expiry_s)
                if expired and persistence is not None:
                    persistence.forget(expired)
            batch.alarms, batch.thresholds = decide(bank, persistence, batch.windows.asset, batch.scored.score)
        self.next_step.submit(batch)
