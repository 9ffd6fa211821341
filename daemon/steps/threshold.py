"""Turn scores into alarms: the per-asset SPOT/DSPOT thresholds (``pipelines.threshold.ThresholdBank``), then
persistence and hysteresis (``pipelines.threshold.persistence``), through ``decide``, the one function the SKAB
evaluation decides with too."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

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
        """An asset that expires inside the batch restarts between its two windows: the batch is decided in pieces
        cut there (``ThresholdBank.idle_cuts``, one pass over the batch), so its earlier windows meet the detector
        they would meet in any other batching (a restart replays them in other batches; the decisions must not
        change)."""
        if batch.scored is not None and batch.windows is not None:
            bank, persistence = self.bank(), self.persistence()
            assets, scores = batch.windows.asset, batch.scored.score
            idle = self.idle_expiry_s
            cuts = [] if idle is None else bank.idle_cuts(assets, batch.windows.ts_ms / 1000.0, idle)
            bounds = [0, *(c for c in cuts if c), len(scores)]
            parts = []
            for s, e in zip(bounds[:-1], bounds[1:], strict=True):
                if cuts and s == cuts[0]:
                    bank.restart(assets[cuts.pop(0)])
                    if persistence is not None:
                        persistence.forget([assets[s]])
                alarms, thresholds = decide(bank, persistence, assets[s:e], scores[s:e])
                parts.append((alarms, thresholds, bank.last_n_peaks))
            if len(parts) == 1:
                batch.alarms, batch.thresholds, batch.n_peaks = parts[0]
            else:
                batch.alarms, batch.thresholds, batch.n_peaks = (np.concatenate(p) for p in zip(*parts, strict=True))
        self.next_step.submit(batch)
