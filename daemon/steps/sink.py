"""Hand every alert of the batch to the producer (keyed by asset); the commit step waits for the acks."""
from __future__ import annotations

from typing import Any

from daemon.batch import Batch
from daemon.chain import PassStep, Step


class SinkStep(PassStep):
    def __init__(self, producer: Any, topic: str, next_step: Step) -> None:
        self.producer = producer
        self.topic = topic
        self.next_step = next_step

    def submit(self, batch: Batch) -> None:
        for key, value, _ in batch.alerts:
            batch.sends.append(self.producer.send(self.topic, key=key, value=value))
        self.next_step.submit(batch)
