"""The alert policy with the real EpisodeTracker and ThresholdBank (pure logic, no Kafka)."""

from __future__ import annotations

import numpy as np
import orjson

from daemon.batch import Batch
from daemon.steps.alert_policy import AlertPolicyStep
from daemon.steps.score import ScoreStep
from daemon.steps.threshold import ThresholdStep
from daemon.wire.alert import alert_id, close_alert_id
from daemon.wire.records import decode_batch
from pipelines.episodes import EpisodeTracker
from pipelines.threshold import ThresholdBank
from tests.daemon.helpers import Rec, StandInModel, window


class Collect:
    def __init__(self):
        self.batches = []

    def submit(self, batch):
        self.batches.append(batch)

    def poll(self):
        pass

    def join(self, timeout_s):
        return True


def run_chain(values_by_offset, tracker, partition=0, topic="w", model=None, bank=None):
    model = model or StandInModel()
    bank = bank or ThresholdBank("spot", model.calibration, q=1e-3, level=0.9)
    out = Collect()
    policy = AlertPolicyStep(lambda: tracker, lambda: bank, out)
    chain = ScoreStep(ThresholdStep(lambda: bank, policy))
    records = [
        Rec(topic, partition, off, b"a", window("a", ts=1_714_564_800_000 + off * 1000, values=v))
        for off, v in values_by_offset
    ]
    b = Batch(records=records)
    b.model = model
    b.windows = decode_batch(records, model.dim, 1 << 20).windows
    chain.submit(b)
    return [orjson.loads(v) for _, v, _ in out.batches[0].alerts], policy


def test_open_update_close_with_ids_from_positions_and_episode():
    normal, high = [0.1, 0.1, 0.1, 0.1], [50.0, 50.0, 50.0, 50.0]
    seq = [(0, normal), (1, high), (2, high), (3, high), (4, normal), (5, normal), (6, normal)]
    tracker = EpisodeTracker(quiet_windows=3, quiet_seconds=None, update_every=2)
    alerts, _ = run_chain(seq, tracker)
    assert [a["episode"]["event"] for a in alerts] == ["open", "update", "close"]
    assert [a["source"]["offset"] for a in alerts] == [1, 3, 6]
    ep = alerts[0]["episode"]["episode_id"]
    assert {a["episode"]["episode_id"] for a in alerts} == {ep}
    assert alerts[0]["alert_id"] == alert_id("w", 0, 1, "open")
    assert alerts[1]["alert_id"] == alert_id("w", 0, 3, "update")
    assert alerts[2]["alert_id"] == close_alert_id(ep)
    a = alerts[0]
    assert a["score"] == 50.0 and a["components"] == {"recon": 25.0, "density": 50.0 / 3}
    assert a["threshold"]["method"] == "spot" and a["threshold"]["q"] == 1e-3 and a["threshold"]["n_peaks"] > 0
    assert a["threshold"]["value"] < 50.0 and a["artifact_version"] == "v-test" and a["neighbours"] == [0, 1, 2]


def test_replay_gives_identical_alert_ids():
    seq = [(i, [50.0] * 4 if i % 7 == 3 else [0.1] * 4) for i in range(40)]
    first, _ = run_chain(seq, EpisodeTracker(quiet_windows=2, quiet_seconds=None, update_every=1))
    again, _ = run_chain(seq, EpisodeTracker(quiet_windows=2, quiet_seconds=None, update_every=1))
    assert [a["alert_id"] for a in first] == [a["alert_id"] for a in again] and len(first) >= 6


def _alarm_then_quiet(quiet_partition: int, quiet_offset: int, quiet_after_ms: int) -> tuple[Collect, AlertPolicyStep]:
    """Asset "a" alarms at t = 1,000 s, asset "b" reports a normal window ``quiet_after_ms`` later, one batch, an
    episode tracker whose only way to close "a" is 30 s of event time without it."""
    tracker = EpisodeTracker(quiet_windows=100, quiet_seconds=30, update_every=0)
    model = StandInModel()
    bank = ThresholdBank("spot", model.calibration, q=1e-3, level=0.9)
    out = Collect()
    policy = AlertPolicyStep(lambda: tracker, lambda: bank, out)
    chain = ScoreStep(ThresholdStep(lambda: bank, policy))
    recs = [
        Rec("w", 0, 0, b"a", window("a", ts=1_000_000, values=[50.0] * 4)),
        Rec("w", quiet_partition, quiet_offset, b"b", window("b", ts=1_000_000 + quiet_after_ms, values=[0.1] * 4)),
    ]
    b = Batch(records=recs)
    b.model = model
    b.windows = decode_batch(recs, 4, 1 << 20).windows
    chain.submit(b)
    return out, policy


def test_watermark_sweep_closes_an_asset_that_went_silent():
    out, _ = _alarm_then_quiet(quiet_partition=0, quiet_offset=1, quiet_after_ms=60_000)
    alerts = [orjson.loads(v) for _, v, _ in out.batches[0].alerts]
    assert [(x["asset"], x["episode"]["event"]) for x in alerts] == [("a", "open"), ("a", "close")]
    assert alerts[1]["source"] is None and alerts[1]["ts_ms"] == 1_060_000
    assert alerts[1]["alert_id"] == close_alert_id(alerts[0]["episode"]["episode_id"])


def test_a_lagging_partition_holds_the_watermark_back():
    out, policy = _alarm_then_quiet(quiet_partition=1, quiet_offset=0, quiet_after_ms=600_000)
    assert [orjson.loads(v)["episode"]["event"] for _, v, _ in out.batches[0].alerts] == ["open"]
    assert np.isclose(min(policy.latest_ts_ms.values()), 1_000_000)


def test_a_restart_that_polls_the_leading_partition_first_does_not_close_the_lagging_ones_episode(tmp_path):
    """Asset "a" (partition 1) opens an episode at t = 1,000 s while partition 0 is at 1,000 s too; the state is
    checkpointed and restored; the first batch after the restart holds only partition 0, 10 minutes ahead. With the
    watermarks saved in the checkpoint, partition 1 still holds the watermark at 1,000 s and the episode stays open
    (the uninterrupted run would close it only once partition 1 moved on); without them the restart closes it."""
    from daemon.config import Config, ThresholdConfig
    from daemon.factories import StateFactories
    from daemon.state import DecisionState
    from pipelines.threshold.persistence import Persistence

    model = StandInModel()
    cfg = Config(threshold=ThresholdConfig(method="spot", q=1e-3, level=0.9, checkpoint_path=tmp_path / "s.json"))

    def chain(state):
        out = Collect()
        policy = AlertPolicyStep(lambda: state.tracker, lambda: state.bank, out, lambda: state.watermarks)
        return out, ScoreStep(ThresholdStep(lambda: state.bank, policy))

    def submit(step, recs):
        b = Batch(records=recs)
        b.model = model
        b.windows = decode_batch(recs, 4, 1 << 20).windows
        step.submit(b)

    bank = ThresholdBank.from_settings(cfg.threshold, model.calibration)
    tracker = EpisodeTracker(quiet_windows=100, quiet_seconds=30, update_every=0)
    before = DecisionState(bank, Persistence(), tracker)
    out, step = chain(before)
    submit(
        step,
        [
            Rec("w", 1, 0, b"a", window("a", 1_000_000, [50.0] * 4)),
            Rec("w", 0, 0, b"b", window("b", 1_000_000, [0.1] * 4)),
        ],
    )
    assert [orjson.loads(v)["episode"]["event"] for _, v, _ in out.batches[0].alerts] == ["open"]
    before.save(cfg, model)
    ahead = [Rec("w", 0, 1, b"b", window("b", 1_600_000, [0.1] * 4))]

    after = DecisionState.restore(cfg, model, StateFactories())
    assert after.watermarks == {("w", 0): 1_000_000, ("w", 1): 1_000_000}
    out, step = chain(after)
    submit(step, ahead)
    assert out.batches[0].alerts == [] and "a" in after.tracker.open_episodes()

    forgetful = DecisionState.restore(cfg, model, StateFactories())
    forgetful.watermarks.clear()
    out, step = chain(forgetful)
    submit(step, ahead)
    assert [orjson.loads(v)["episode"]["event"] for _, v, _ in out.batches[0].alerts] == ["close"]


def test_a_rebalance_forgets_only_the_partitions_it_lost():
    policy = AlertPolicyStep(lambda: None, lambda: None, Collect())
    policy.latest_ts_ms.update({("w", 0): 5, ("w", 1): 7, ("w", 2): 9})
    policy.reset_watermark({("w", 1), ("w", 3)})
    assert policy.latest_ts_ms == {("w", 1): 7}
