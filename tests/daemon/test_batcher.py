from __future__ import annotations

from kafka.structs import TopicPartition

from daemon.batch import Batch, next_offsets
from daemon.steps.batcher import Batcher
from tests.daemon.helpers import Rec, recs


class Collect:
    def __init__(self):
        self.batches: list[Batch] = []
        self.polls = 0
        self.joined = 0

    def submit(self, batch):
        self.batches.append(batch)

    def poll(self):
        self.polls += 1

    def join(self, timeout_s):
        self.joined += 1
        return True


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_emits_when_full_and_never_more_than_max_records():
    out, clock = Collect(), Clock()
    b = Batcher(max_records=3, max_wait_ms=1000, next_step=out, clock=clock)
    assert b.room() == 3
    b.add(recs([b"x"] * 2))
    b.poll()
    assert out.batches == [] and b.room() == 1
    b.add(recs([b"y"] * 5, start=2))
    b.poll()
    assert [len(x) for x in out.batches] == [3, 3]
    assert len(b) == 1


def test_emits_a_partial_batch_after_max_wait():
    out, clock = Collect(), Clock()
    b = Batcher(max_records=100, max_wait_ms=50, next_step=out, clock=clock)
    b.add(recs([b"x"]))
    assert b.time_left_ms() == 50
    clock.t += 0.03
    b.poll()
    assert out.batches == [] and b.time_left_ms() == 20
    clock.t += 0.021
    b.poll()
    assert [len(x) for x in out.batches] == [1]
    assert b.time_left_ms() == 50  # empty again: the wait restarts with the next record


def test_join_flushes_everything_then_joins_downstream():
    out = Collect()
    b = Batcher(max_records=2, max_wait_ms=10_000, next_step=out)
    b.add(recs([b"x"] * 5))
    assert b.join(1.0)
    assert [len(x) for x in out.batches] == [2, 2, 1] and out.joined == 1 and len(b) == 0


def test_discard_drops_only_the_given_partitions():
    out = Collect()
    b = Batcher(max_records=100, max_wait_ms=10_000, next_step=out)
    b.add(recs([b"x"] * 3, partition=0) + recs([b"y"] * 2, partition=1))
    assert b.discard([TopicPartition("t", 0)]) == 3
    b.join(1.0)
    assert [r.partition for r in out.batches[0].records] == [1, 1]


def test_offsets_travel_with_the_batch_as_next_offsets_per_partition():
    rs = recs([b"x"] * 3, partition=0, start=10) + [Rec("t", 1, 7, None, b"z"), Rec("u", 0, 2, None, b"z")]
    assert Batch(records=rs).commit_offsets == {
        TopicPartition("t", 0): 13,
        TopicPartition("t", 1): 8,
        TopicPartition("u", 0): 3,
    }
    assert next_offsets([]) == {}
