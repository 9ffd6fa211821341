"""A new artifact version with per-asset calibration: only the assets whose own normal changed restart."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from daemon.service import Daemon, _default_bank_from_state
from pipelines.threshold import ThresholdBank


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
    fake = SimpleNamespace(bank=bank, _bank_from_state=_default_bank_from_state)
    old = SimpleNamespace(asset_calibration={"a": cal_a}, version="v1")
    new = SimpleNamespace(asset_calibration={"a": cal_a, "b": cal_b}, version="v2")
    rebased = Daemon._rebase_bank(fake, old, new)
    assert rebased.detector("a").state() == before["a"] and rebased.detector("c").state() == before["c"]
    assert rebased.source("b") == "own" and rebased.detector("b").state() != before["b"]
    assert rebased.detector("b").n == cal_b.size < bank.detector("b").n  # afresh: its own scores, no stream yet
    # a's own normal refreshed: a restarts, b keeps what it learnt since
    rebased.process(["b"] * 50, np.abs(rng.normal(size=50)))
    b_state = rebased.detector("b").state()
    fake.bank = rebased
    newer = SimpleNamespace(asset_calibration={"a": cal_a * 1.5, "b": cal_b}, version="v3")
    again = Daemon._rebase_bank(fake, new, newer)
    assert again.detector("b").state() == b_state
    assert again.detector("a").state() != before["a"] and again.source("a") == "own"


def test_swap_between_versions_without_asset_normals_keeps_the_bank():
    rng = np.random.default_rng(0)
    bank = _bank(np.abs(rng.normal(size=400)), None)
    fake = SimpleNamespace(bank=bank, _bank_from_state=_default_bank_from_state)
    none = SimpleNamespace(asset_calibration=None, version="v")
    assert Daemon._rebase_bank(fake, none, none) is bank
