"""The coordinator wait of the tools' group calls: retried while the broker says "not ready", bounded, named."""

from __future__ import annotations

import pytest
from kafka.errors import CoordinatorLoadInProgressError, CoordinatorNotAvailableError, UnknownTopicOrPartitionError

from latentwatch.kafka.admin import CoordinatorUnavailable, with_coordinator


def test_with_coordinator_waits_through_not_ready_answers():
    answers = [CoordinatorNotAvailableError, CoordinatorLoadInProgressError]

    def call():
        if answers:
            raise answers.pop(0)()
        return "members"

    assert with_coordinator(call, "g", "127.0.0.1:1", timeout_s=5) == "members"
    assert answers == []


def test_with_coordinator_gives_up_with_the_group_and_broker_named():
    def call():
        raise CoordinatorNotAvailableError()

    with pytest.raises(CoordinatorUnavailable, match=r"'demo-group' on 127\.0\.0\.1:1 was not ready within 0.5s"):
        with_coordinator(call, "demo-group", "127.0.0.1:1", timeout_s=0.5)


def test_with_coordinator_does_not_retry_other_errors():
    calls = []

    def call():
        calls.append(1)
        raise UnknownTopicOrPartitionError()

    with pytest.raises(UnknownTopicOrPartitionError):
        with_coordinator(call, "g", "127.0.0.1:1", timeout_s=5)
    assert len(calls) == 1
