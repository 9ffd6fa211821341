"""The daemon's decision state: a new artifact version with per-asset calibration restarts only the assets whose own
normal changed; the checkpoint key is the threshold section's decision settings."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from daemon.config import ThresholdConfig
from daemon.factories import StateFactories
from daemon.state import DecisionState, threshold_key
from pipelines.episodes import EpisodeTracker
from pipelines.threshold import ThresholdBank
from pipelines.threshold.persistence import Persistence

SETTINGS = ThresholdConfig(method="spot", q=1e-3, level=0.9)


def _state(bank: ThresholdBank) -> DecisionState:
    return DecisionState(bank, Persistence(), EpisodeTracker())


def _bank(cal, own):
    bank = ThresholdBank("spot", cal, own, q=1e-3, level=0.9)
    rng = np.random.default_rng(1)
    bank.process(["a", "b", "c"] * 200, np.abs(rng.normal(size=600)))
    return bank


def test_swap_restarts_only_assets_whose_own_calibration_changed():
    rng = np.random.default_rng(0)
    cal, cal_a, cal_b = (np.abs(rng.normal(size=400)) * s for s in (1.0, 2.0, 3.0))
    bank = _bank(cal, {"a": cal_a})
    before = {a: bank.detector(a).state() for a in "abc"}
    state = _state(bank)
    old = SimpleNamespace(calibration=cal, asset_calibration={"a": cal_a}, version="v1")
    new = SimpleNamespace(calibration=cal, asset_calibration={"a": cal_a, "b": cal_b}, version="v2")
    state.rebase(StateFactories(), SETTINGS, old, new)
    rebased = state.bank
    assert rebased.detector("a").state() == before["a"] and rebased.detector("c").state() == before["c"]
    assert rebased.source("b") == "own" and rebased.detector("b").state() != before["b"]
    assert rebased.detector("b").n == cal_b.size < bank.detector("b").n  # afresh: its own scores, no stream yet
    # a's own normal refreshed: a restarts, b keeps what it learnt since
    rebased.process(["b"] * 50, np.abs(rng.normal(size=50)))
    b_state = rebased.detector("b").state()
    newer = SimpleNamespace(calibration=cal, asset_calibration={"a": cal_a * 1.5, "b": cal_b}, version="v3")
    state.rebase(StateFactories(), SETTINGS, new, newer)
    again = state.bank
    assert again.detector("b").state() == b_state
    assert again.detector("a").state() != before["a"] and again.source("a") == "own"


def test_swap_between_versions_without_asset_normals_keeps_the_bank():
    rng = np.random.default_rng(0)
    cal = np.abs(rng.normal(size=400))
    bank = _bank(cal, None)
    state = _state(bank)
    none = SimpleNamespace(calibration=cal, asset_calibration=None, version="v")
    state.rebase(StateFactories(), SETTINGS, none, SimpleNamespace(calibration=cal.copy(), asset_calibration=None))
    assert state.bank is bank


def test_the_checkpoint_key_is_every_decision_setting_and_nothing_else():
    key = threshold_key(ThresholdConfig(method="spot", q=1e-3, checkpoint_interval_s=5.0, idle_expiry_s=None))
    assert key == {
        "method": "spot",
        "q": 1e-3,
        "level": 0.98,
        "depth": 10,
        "refit_every": 10,
        "max_shape": 0.5,
        "max_peak_ratio": 5.0,
        "persist_m": 1,
        "persist_n": 1,
        "release_windows": 1,
    }
    assert threshold_key(ThresholdConfig(q=1e-3, method="spot")) == key  # where and how often it is saved: no part
