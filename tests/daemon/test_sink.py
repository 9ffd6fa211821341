"""The sink's two guards: an alert over the record limit is cut to fit; an error send raises at once is exit 4's."""

from __future__ import annotations

import orjson
import pytest
from kafka.errors import KafkaTimeoutError

from daemon.batch import Batch
from daemon.inmemory import MemoryProducer
from daemon.steps.commit import DeliveryFailed
from daemon.steps.sink import SinkStep
from daemon.wire.alert import build_alert


class Sink:
    def __init__(self) -> None:
        self.batches = []

    def submit(self, batch):
        self.batches.append(batch)


def _alert(meta_bytes: int) -> bytes:
    return build_alert(
        topic="w",
        partition=0,
        offset=1,
        asset="a",
        ts_ms=1_714_564_800_000,
        score=2.0,
        components={},
        threshold={"value": 1.0},
        artifact_version="v",
        neighbours=[1],
        episode={"episode_id": "e", "event": "open"},
        meta={"x": "y" * meta_bytes},
    )


def test_alerts_are_sent_as_they_are_and_one_over_the_limit_is_cut_with_headers():
    producer, after = MemoryProducer(), Sink()
    truncated = []
    step = SinkStep(producer, "alerts", after, record_limit=4000, on_truncated=lambda: truncated.append(1))
    batch = Batch(records=[])
    batch.alerts = [(b"a", _alert(10), "open"), (b"a", _alert(10_000), "open")]
    step.submit(batch)
    (_, _, small, h1), (_, _, big, h2) = producer.sent
    assert h1 is None and orjson.loads(small)["meta"] == {"x": "y" * 10}
    assert orjson.loads(big)["meta"] is None and dict(h2)["truncated"] == b"meta" and truncated == [1]
    assert len(batch.sends) == 2 and after.batches == [batch]


def test_an_error_raised_by_send_is_a_failed_delivery():
    step = SinkStep(MemoryProducer(KafkaTimeoutError("Failed to update metadata after 60.0 secs.")), "alerts", Sink())
    batch = Batch(records=[])
    batch.alerts = [(b"a", _alert(10), "open")]
    with pytest.raises(DeliveryFailed, match="could not be sent to alerts"):
        step.submit(batch)
