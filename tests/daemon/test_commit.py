"""The commit step's ordering and its refusal to commit past a failed or unfinished send (pure logic: the producer
and the commit are recorders here; tests/daemon/test_kafka_run.py checks the same against the real broker)."""

from __future__ import annotations

import pytest
from kafka.errors import CommitFailedError
from kafka.structs import TopicPartition

from daemon.batch import Batch
from daemon.inmemory import MemoryProducer
from daemon.steps.commit import CommitStep, DeliveryFailed
from tests.daemon.helpers import recs


def make(log):
    producer = MemoryProducer(deferred=True)
    committed = []

    def commit(offsets, timeout_s):
        log.append(("commit", dict(offsets), "after flushes", producer.flushes))
        committed.append(dict(offsets))

    return producer, committed, CommitStep(producer, commit, flush_timeout_s=0.01)


def batch(producer, partition=0, start=0, n=3, sends=1):
    b = Batch(records=recs([b"x"] * n, partition=partition, start=start))
    b.sends = [producer.send() for _ in range(sends)]
    return b


def test_flush_comes_before_commit_and_offsets_are_the_batchs():
    log: list = []
    producer, committed, step = make(log)
    step.submit(batch(producer, start=10))
    assert log == [("commit", {TopicPartition("t", 0): 13}, "after flushes", 1)]
    assert step.pending == []


def test_unflushed_batches_stay_pending_and_commit_together_later():
    log: list = []
    producer, committed, step = make(log)
    producer.flush_timeouts = 2
    step.submit(batch(producer, partition=0, start=0))
    step.submit(batch(producer, partition=1, start=5))
    assert committed == [] and step.in_flight() == 6
    step.poll()
    assert committed == [{TopicPartition("t", 0): 3, TopicPartition("t", 1): 8}] and step.in_flight() == 0


def test_a_failed_send_is_fatal_and_nothing_is_committed():
    log: list = []
    producer, committed, step = make(log)
    b = batch(producer, sends=2)
    b.sends[1].failure(RuntimeError("broker said no"))
    with pytest.raises(DeliveryFailed, match="broker said no"):
        step.submit(b)
    assert committed == []


def test_join_gives_up_after_its_timeout_without_committing():
    log: list = []
    producer, committed, step = make(log)
    producer.flush_timeouts = 10**6
    step.submit(batch(producer))
    assert not step.join(0.05)
    assert committed == [] and step.in_flight() == 3


def test_deferred_mode_flushes_but_leaves_the_commit_to_the_caller():
    log: list = []
    producer, committed, step = make(log)
    step.defer = True
    step.submit(batch(producer, start=0))
    step.poll()
    assert committed == []
    step.defer = False
    assert step.take_flushed(1.0) == {TopicPartition("t", 0): 3}
    assert committed == [] and step.pending == []


def test_commit_rejected_after_rebalance_is_logged_and_forgotten():
    producer = MemoryProducer(deferred=True)

    def commit(offsets, timeout_s):
        raise CommitFailedError("generation moved on")

    step = CommitStep(producer, commit)
    step.submit(batch(producer))
    assert step.pending == []
