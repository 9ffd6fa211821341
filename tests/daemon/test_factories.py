"""The daemon's decision state is built from the config's values (the one place they come from), and the tests'
stand-ins implement the Protocols the daemon calls them through."""

from __future__ import annotations

import numpy as np
import pytest

from daemon.config import ConfigError, EpisodesConfig, ThresholdConfig, load_config
from daemon.factories import StateFactories
from pipelines import protocols
from pipelines.threshold import SPOT
from pipelines.threshold.params import InvalidParameter
from tests.daemon.helpers import STAND_IN_TRACKER, StandInEvent, StandInModel, StandInTracker

CAL = np.random.default_rng(0).exponential(size=3000)


def test_the_config_values_are_the_ones_that_run():
    make = StateFactories()
    t = ThresholdConfig(
        method="dspot", q=2e-3, level=0.95, depth=4, refit_every=3, persist_m=2, persist_n=4, release_windows=3
    )
    bank = make.bank(t, CAL, None)
    det = bank.detector("a")  # type: ignore[attr-defined]
    assert (det.q, det.level, det.depth, det.refit_every) == (2e-3, 0.95, 4, 3)
    assert bank.describe("a")["depth"] == 4
    assert make.persistence(t).state()["params"] == {"m": 2, "n": 4, "release": 3}
    tracker = make.tracker(EpisodesConfig(quiet_windows=7, quiet_seconds=None, max_duration_s=60.0, update_every=0))
    assert tracker.state()["params"] == {
        "quiet_windows": 7,
        "quiet_seconds": None,
        "max_duration_s": 60.0,
        "update_every": 0,
    }


def test_restored_from_their_own_state():
    make = StateFactories()
    bank = make.bank(ThresholdConfig(method="spot", q=1e-3), CAL, None)
    bank.process(["a"] * 50, np.linspace(0.0, 3.0, 50))
    again = make.bank_from_state(bank.state(), None)
    assert again.state() == bank.state() and again.assets == ["a"]
    tracker = make.tracker(EpisodesConfig())
    tracker.observe_batch(["a"], np.array([1.0]), np.array([True]), np.array([9.0]), ["k"])
    assert make.tracker_from_state(tracker.state()).state() == tracker.state()


def test_stand_ins_implement_the_protocols():
    assert isinstance(StandInModel(), protocols.ScoringModel)
    assert isinstance(StandInTracker(), protocols.Episodes)
    assert isinstance(StandInEvent("open", "e", "a", 1), protocols.Event)
    tracker = STAND_IN_TRACKER.tracker(EpisodesConfig())
    got = tracker.observe_batch(
        ["a", "a", "b"], np.zeros(3), np.array([True, True, False]), np.ones(3), ["0", "1", "2"]
    )
    assert [(i, e.kind, e.alert_fields()["event"]) for i, e in got] == [(0, "open", "open"), (1, "update", "update")]


@pytest.mark.parametrize(
    "bad",
    [
        {"q": 0.0},
        {"q": 0.05, "level": 0.98},
        {"level": 1.0},
        {"refit_every": 0},
        {"max_shape": 0.0},
        {"max_peak_ratio": 1.5},
    ],
)
def test_a_threshold_value_is_validated_by_one_rule(tmp_path, bad):
    """The config rejects what the detector would, naming the key the detector's rule names, with its words."""
    with pytest.raises(InvalidParameter) as detector:
        SPOT(**bad)
    doc = "threshold:\n" + "".join(f"  {k}: {v}\n" for k, v in bad.items())
    (tmp_path / "c.yaml").write_text(doc)
    with pytest.raises(ConfigError) as config:
        load_config(tmp_path / "c.yaml")
    assert config.value.key == f"threshold.{detector.value.name}"
    assert f"expected {detector.value.expected}" in config.value.message
