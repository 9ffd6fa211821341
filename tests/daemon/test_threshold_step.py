"""The daemon's threshold step decides through ``pipelines.threshold.persistence.decide``: a spike alone opens no
episode, a fault that dips under its threshold stays one episode (real bank, real tracker, no Kafka)."""

from __future__ import annotations

import orjson
import pytest

from daemon.batch import Batch
from daemon.steps.alert_policy import AlertPolicyStep
from daemon.steps.score import ScoreStep
from daemon.steps.threshold import ThresholdStep
from daemon.wire.records import decode_batch
from pipelines.episodes import EpisodeTracker
from pipelines.threshold import ThresholdBank
from pipelines.threshold.persistence import Persistence
from tests.daemon.helpers import Rec, StandInModel, window
from tests.daemon.test_alert_policy import Collect

LOW, HIGH = [0.1] * 4, [50.0] * 4


@pytest.fixture(autouse=True)
def _logs_to_this_tests_stderr():
    """The alert policy logs opens and closes; a daemon test run earlier may have bound the logger to a stream that
    pytest has closed since, so bind it to this test's."""
    from daemon.logs import configure

    configure()


def _events(levels, persistence):
    model = StandInModel()
    bank = ThresholdBank("spot", model.calibration, q=1e-3, level=0.9)
    tracker = EpisodeTracker(quiet_windows=2, quiet_seconds=None, update_every=0)
    out = Collect()
    chain = ScoreStep(
        ThresholdStep(lambda: bank, AlertPolicyStep(lambda: tracker, lambda: bank, out), lambda: persistence)
    )
    recs = [Rec("w", 0, i, b"a", window("a", ts=1_714_564_800_000 + i * 1000, values=v)) for i, v in enumerate(levels)]
    b = Batch(records=recs)
    b.model = model
    b.windows = decode_batch(recs, 4, 1 << 20).windows
    chain.submit(b)
    return [(orjson.loads(v)["source"]["offset"], kind) for _, v, kind in out.batches[0].alerts], b


def test_a_spike_alone_opens_nothing_with_persistence_and_an_episode_without():
    levels = [LOW] * 3 + [HIGH] + [LOW] * 6
    assert _events(levels, None)[0] == [(3, "open"), (5, "close")]
    assert _events(levels, Persistence(m=3, n=5, release=3))[0] == []


def test_a_fault_that_dips_stays_one_episode_and_the_batch_carries_the_decisions():
    fault = [HIGH] * 4 + [LOW] * 2 + [HIGH] * 4  # dips under the threshold for 2 windows
    levels = [LOW] * 3 + fault + [LOW] * 6
    raw, _ = _events(levels, None)
    assert [k for _, k in raw] == ["open", "close", "open", "close"]  # quiet_windows=2 splits it without hysteresis
    held, batch = _events(levels, Persistence(m=2, n=3, release=3))
    assert held == [(4, "open"), (16, "close")]
    assert batch.alarms.tolist() == [False] * 4 + [True] * 11 + [False] * 4


def test_an_asset_that_expires_inside_a_batch_restarts_between_its_two_windows():
    """Asset "a" has 30 windows, then a gap longer than idle_expiry_s, then 30 more; "b" streams beside it. Deciding
    it all in one batch or in batches of every size gives the same thresholds and peak counts: the windows before
    the gap meet the detector that saw "a"'s history, the ones after it a fresh one (the bug: a whole-batch expire
    restarted "a" before its earlier windows too, so a restart that replayed them in another batch decided
    otherwise)."""
    import numpy as np

    model = StandInModel()
    rng = np.random.default_rng(3)
    t0, recs = 1_714_564_800_000, []
    for i in range(60):
        ts = t0 + i * 1000 + (0 if i < 30 else 10_000_000)
        for a in ("a", "b"):
            values = (np.abs(rng.normal(size=4)) * (30 if rng.random() < 0.2 else 1)).tolist()
            recs.append(
                Rec("w", 0, len(recs), a.encode(), window(a, ts=ts if a == "a" else t0 + i * 1000, values=values))
            )

    def run(size):
        bank = ThresholdBank("spot", model.calibration, q=1e-3, level=0.9)
        out = Collect()
        step = ThresholdStep(lambda: bank, out, idle_expiry_s=1000.0)
        chain = ScoreStep(step)
        for s in range(0, len(recs), size):
            b = Batch(records=recs[s : s + size])
            b.model = model
            b.windows = decode_batch(b.records, 4, 1 << 20).windows
            chain.submit(b)
        return [np.concatenate([getattr(b, f) for b in out.batches]) for f in ("alarms", "thresholds", "n_peaks")]

    whole = run(len(recs))
    for size in (1, 7, 59, 61):
        for got, want in zip(run(size), whole, strict=True):
            np.testing.assert_array_equal(got, want)
    fresh = ThresholdBank("spot", model.calibration, q=1e-3, level=0.9).detector("new").n_peaks
    assert whole[2][0] == whole[2][60] == fresh  # "a"'s first window, and its first after the gap: a fresh detector
