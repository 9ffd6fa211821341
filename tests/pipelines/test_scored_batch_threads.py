"""A batch's sensors are computed once per batch, and one batch's computation never waits for another's: the
daemon's loop reads its alerts' sensors while a new version warms up (its own sensors, seconds) on the load thread."""

from __future__ import annotations

import threading

import numpy as np

from pipelines.online import ScoredBatch


def batch(explainer) -> ScoredBatch:
    one = np.zeros(1)
    return ScoredBatch(score=one, components={}, neighbours=np.zeros((1, 1), np.int64), explainer=explainer)


def test_one_batch_explaining_on_another_thread_does_not_hold_up_the_next():
    release, entered = threading.Event(), threading.Event()
    calls = []

    def slow():
        entered.set()
        assert release.wait(10)
        return np.zeros((1, 1), np.int64), np.ones((1, 1))

    def quick():
        calls.append(1)
        return np.zeros((1, 1), np.int64), np.full((1, 1), 0.5)

    warming = batch(slow)
    t = threading.Thread(target=lambda: warming.sensors)
    t.start()
    assert entered.wait(10)
    done = threading.Event()
    loop_batch = batch(quick)
    reader = threading.Thread(target=lambda: (loop_batch.sensor_shares, done.set()))
    reader.start()
    assert done.wait(2), "the loop's batch waited for the warming one"
    release.set()
    t.join(10)
    reader.join(10)
    assert loop_batch.sensor_shares[0, 0] == 0.5
    assert loop_batch.sensors is loop_batch.sensors and calls == [1]  # computed once
