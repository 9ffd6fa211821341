"""Hand every alert of the batch to the producer (keyed by asset); the commit step waits for the acks.

An alert over the record limit (the producer's ``max_request_size`` or the alert topic's ``max.message.bytes``,
whichever is smaller) is cut to fit by ``daemon.wire.alert.fit_alert`` and says so in its headers; the producer would
otherwise raise ``MessageSizeTooLargeError`` from ``send`` and stop the daemon on every restart. Any other error
``send`` raises at once (metadata for the topic not available within ``max_block_ms``) is a failed delivery: exit 4,
as for a send that fails later."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kafka.errors import KafkaError

from daemon.batch import Batch
from daemon.chain import PassStep, Step
from daemon.steps.commit import DeliveryFailed
from daemon.wire.alert import fit_alert

DEFAULT_RECORD_LIMIT = 1_048_576  # kafka-python's max_request_size default


class SinkStep(PassStep):
    def __init__(
        self,
        producer: Any,
        topic: str,
        next_step: Step,
        record_limit: int = DEFAULT_RECORD_LIMIT,
        on_truncated: Callable[[], None] | None = None,
    ) -> None:
        self.producer = producer
        self.topic = topic
        self.next_step = next_step
        self.record_limit = record_limit
        self.on_truncated = on_truncated or (lambda: None)

    def submit(self, batch: Batch) -> None:
        for key, value, _ in batch.alerts:
            value, headers = fit_alert(key, value, self.record_limit)
            if headers:
                self.on_truncated()
            try:
                batch.sends.append(self.producer.send(self.topic, key=key, value=value, headers=headers or None))
            except KafkaError as e:
                raise DeliveryFailed(f"an alert could not be sent to {self.topic}: {e!r}") from e
        self.next_step.submit(batch)
