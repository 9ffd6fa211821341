"""Score the valid windows with the batch's model (``OnlineModel.score``, each window against its asset's own
reference when the artifact has one); the daemon never computes a score."""

from __future__ import annotations

from daemon.batch import Batch
from daemon.chain import PassStep, Step


class ScoreStep(PassStep):
    def __init__(self, next_step: Step) -> None:
        self.next_step = next_step

    def submit(self, batch: Batch) -> None:
        if batch.windows is not None and len(batch.windows):
            batch.scored = batch.model.score(batch.windows.values, assets=batch.windows.asset)
        self.next_step.submit(batch)
