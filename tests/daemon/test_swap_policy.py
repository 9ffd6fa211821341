"""The threshold state across a version swap (``DecisionState.rebase``) and across a restart under another version
(``DecisionState.restore``): a detector restarts exactly when the calibration it started from changed."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from daemon.config import Config, ThresholdConfig
from daemon.factories import StateFactories
from daemon.state import DecisionState
from pipelines.episodes import EpisodeTracker
from pipelines.threshold import ThresholdBank
from pipelines.threshold.persistence import Persistence

SETTINGS = ThresholdConfig(method="spot", q=1e-3, level=0.9)
RNG = np.random.default_rng(0)
CAL_V1 = np.abs(RNG.normal(size=400))
CAL_V2 = CAL_V1 * 0.5  # a refreshed global reference: denser neighbours, smaller scores
OWN_A = np.abs(RNG.normal(size=400)) * 2.0  # enough scores for an own fit
FEW_C = np.abs(RNG.normal(size=30))  # too few: c runs the shared fit


def model(version: str, calibration: np.ndarray, own: dict | None = None) -> SimpleNamespace:
    return SimpleNamespace(version=version, dim=4, calibration=calibration, asset_calibration=own)


def running(own: dict | None) -> DecisionState:
    bank = ThresholdBank.from_settings(SETTINGS, CAL_V1, own)
    bank.process(["a", "b", "c"] * 200, np.abs(np.random.default_rng(1).normal(size=600)))
    persistence = Persistence(3, 5, 2)
    persistence.process(["a", "b", "c"], np.array([True, True, False]))
    return DecisionState(bank, persistence, EpisodeTracker())


def fresh_detector_state(calibration: np.ndarray, asset: str, own: dict | None = None) -> dict:
    return ThresholdBank.from_settings(SETTINGS, calibration, own).detector(asset).state()


def test_a_refresh_restarts_every_asset_on_the_shared_fit_from_the_new_calibration():
    state = running(None)
    persistence, tracker = state.persistence, state.tracker
    state.rebase(StateFactories(), SETTINGS, model("v1", CAL_V1), model("v2", CAL_V2))
    for asset in ("a", "b", "c", "first-seen-after"):
        assert state.bank.detector(asset).state() == fresh_detector_state(CAL_V2, asset)
    assert state.bank.detector("b").t < fresh_detector_state(CAL_V1, "b")["t"]  # the new scale's threshold
    assert state.persistence is persistence and state.tracker is tracker  # decisions, not scores: carried over


def test_a_version_with_the_same_calibration_keeps_every_detector():
    state = running(None)
    bank = state.bank
    state.rebase(StateFactories(), SETTINGS, model("v1", CAL_V1), model("v2", CAL_V1.copy()))
    assert state.bank is bank


def test_an_asset_on_its_own_unchanged_calibration_keeps_its_state_through_a_refresh():
    own = {"a": OWN_A, "c": FEW_C}
    state = running(own)
    assert state.bank.source("a") == "own" and state.bank.source("c").startswith("shared (own: 30")
    before_a = state.bank.detector("a").state()
    state.bank.spill()  # packed detectors too (a packs its own peaks, b and c share the old fit's)
    state.bank.spill()
    state.rebase(StateFactories(), SETTINGS, model("v1", CAL_V1, own), model("v2", CAL_V2, dict(own)))
    assert state.bank.detector("a").state() == before_a
    assert state.bank.detector("b").state() == fresh_detector_state(CAL_V2, "b")
    assert state.bank.detector("c").state() == fresh_detector_state(CAL_V2, "c")  # on the shared fit: restarts


def test_an_own_calibration_that_changed_restarts_even_when_the_shared_one_did_not():
    state = running({"a": OWN_A})
    before_b = state.bank.detector("b").state()
    newer = {"a": OWN_A * 1.5}
    state.rebase(StateFactories(), SETTINGS, model("v1", CAL_V1, {"a": OWN_A}), model("v2", CAL_V1, newer))
    assert state.bank.detector("a").state() == fresh_detector_state(CAL_V1, "a", newer)
    assert state.bank.detector("b").state() == before_b


def restored(tmp_path: Path, saved_under: SimpleNamespace, restored_under: SimpleNamespace) -> tuple[dict, dict]:
    cfg = Config(threshold=ThresholdConfig(method="spot", q=1e-3, level=0.9, checkpoint_path=tmp_path / "s.npz"))
    state = running(None)
    before = {a: state.bank.detector(a).state() for a in "abc"}
    state.save(cfg, saved_under)
    back = DecisionState.restore(cfg, restored_under, StateFactories())
    return before, {a: back.bank.detector(a).state() for a in "abc"}


def test_a_restart_under_a_refreshed_version_follows_the_swap_policy(tmp_path):
    _, after = restored(tmp_path, model("v1", CAL_V1), model("v2", CAL_V2))
    assert after == {a: fresh_detector_state(CAL_V2, a) for a in "abc"}


def test_a_restart_under_another_version_with_the_same_calibration_keeps_the_state(tmp_path):
    before, after = restored(tmp_path, model("v1", CAL_V1), model("v2", CAL_V1.copy()))
    assert after == before
