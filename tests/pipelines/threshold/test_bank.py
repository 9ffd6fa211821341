import json

import numpy as np
import pytest

from latentwatch.bench.thresholds import run_synthetic as bench_run
from pipelines.threshold import DSPOT, SPOT, ThresholdBank
from pipelines.threshold.bank import METHODS, needed_scores

CAL = np.random.default_rng(0).exponential(size=3000)


def traffic(seed: int, n: int = 4000) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    assets = [f"a{i}" for i in rng.integers(0, 5, n)]
    scores = rng.exponential(size=n)
    scores[rng.integers(0, n, 15)] += 12.0
    return assets, scores


@pytest.mark.parametrize("batch", [7, 333])  # few windows per asset take scalar steps, many the vectorised path
@pytest.mark.parametrize(
    "method, cls, params",
    [
        ("spot", SPOT, {"q": 1e-3}),
        ("dspot", DSPOT, {"q": 1e-3, "depth": 4}),
    ],
)
def test_interleaved_assets_are_independent(method, cls, params, batch):
    assets, scores = traffic(1)
    bank = ThresholdBank(method, CAL, **params)
    alarms = np.empty(len(scores), dtype=bool)
    thr = np.empty(len(scores))
    for s in range(0, len(scores), batch):
        alarms[s : s + batch], thr[s : s + batch] = bank.process(assets[s : s + batch], scores[s : s + batch])
    assert alarms.sum() >= 10
    names = np.array(assets)
    for name in sorted(set(assets)):
        alone = cls(**params)
        alone.initialize(CAL)
        a, t = alone.update(scores[names == name])
        np.testing.assert_array_equal(alarms[names == name], a)
        np.testing.assert_array_equal(thr[names == name], t)
        assert bank.detector(name).state() == alone.state()
    assert bank.assets == list(dict.fromkeys(assets))


def test_new_asset_starts_from_the_shared_calibration():
    bank = ThresholdBank("spot", CAL, q=1e-3)
    fresh = SPOT(q=1e-3)
    fresh.initialize(CAL)
    bank.process(["old"] * 20, np.full(20, fresh.t + 0.1))  # 20 peaks move "old"'s threshold
    _, thr = bank.process(["old", "new"], np.zeros(2))
    assert thr[1] == fresh.z and thr[0] != fresh.z


def test_state_round_trip_through_json():
    assets, scores = traffic(2)
    bank = ThresholdBank("dspot", CAL, q=1e-3, depth=6)
    bank.process(assets[:2000], scores[:2000])
    restored = ThresholdBank.from_state(json.loads(json.dumps(bank.state())))
    assert restored.assets == bank.assets
    a1, t1 = bank.process(assets[2000:], scores[2000:])
    a2, t2 = restored.process(assets[2000:], scores[2000:])
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(t1, t2)
    assert restored.state() == bank.state()


def test_bad_batches_change_nothing():
    bank = ThresholdBank("spot", CAL, q=1e-3)
    bank.process(["a", "b"], np.array([0.5, 0.7]))
    before = bank.state()
    with pytest.raises(ValueError, match="3 assets for 2 scores"):
        bank.process(["a", "b", "c"], np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="index 1"):
        bank.process(["a", "c"], np.array([0.1, np.nan]))
    assert bank.state() == before and bank.assets == ["a", "b"]


def test_unknown_method():
    with pytest.raises(ValueError, match="method must be one of \\['dspot', 'spot'\\], got 'pot'"):
        ThresholdBank("pot", CAL)


def test_bench_runs_and_reports():
    r = bench_run("dspot", n_assets=10, n_windows=3000, batch=500, q=1e-3)
    assert r["windows_per_s"] > 0 and 0 <= r["alarm_rate"] < 0.01


@pytest.mark.parametrize("method, params", [("spot", {"q": 1e-3}), ("dspot", {"q": 1e-3, "depth": 4})])
def test_an_asset_with_its_own_calibration_starts_from_it(method, params):
    own = np.random.default_rng(5).exponential(scale=4.0, size=2000)  # a normal four times the shared one's scale
    bank = ThresholdBank(method, CAL, {"big": own}, **params)
    alone = METHODS[method](**params)
    alone.initialize(own)
    shared = METHODS[method](**params)
    shared.initialize(CAL)
    _, thr = bank.process(["big", "other"], np.zeros(2))
    assert bank.detector("big").state() != shared.state()
    assert thr[0] == alone.step(0.0)[1] and bank.detector("big").state() == alone.state()
    assert bank.detector("other").t == shared.t
    assert bank.source("big") == "own" and bank.source("other") == "shared"
    assert bank.detector("big").z > 2 * shared.z  # its own, wider normal: a score normal for it is no alarm


def test_too_few_own_scores_fall_back_to_the_shared_fit_and_say_so():
    need = needed_scores("dspot", 0.98, depth=10)
    assert need == 510
    short = np.random.default_rng(6).exponential(size=need - 1)
    bank = ThresholdBank("dspot", CAL, {"short": short, "tied": np.ones(600)}, q=1e-3, depth=10)
    shared = DSPOT(q=1e-3, depth=10)
    shared.initialize(CAL)
    bank.process(["short", "tied"], np.zeros(2))
    assert bank.detector("short").t == shared.t and bank.detector("tied").t == shared.t
    assert bank.source("short") == f"shared (own: {need - 1} scores, need {need})"
    assert bank.source("tied").startswith("shared (own: calibration gives 0 peaks")


def test_bad_own_calibration_is_an_error_naming_the_asset():
    with pytest.raises(ValueError, match="calibration scores of asset 'p7' has 1 non-finite value"):
        ThresholdBank("spot", CAL, {"p7": np.array([1.0, np.inf])})


def test_sources_survive_a_restore_and_new_assets_use_the_calibration_passed_again():
    own = {
        "a": np.random.default_rng(7).exponential(scale=3.0, size=1000),
        "b": np.random.default_rng(8).exponential(scale=5.0, size=1000),
    }
    bank = ThresholdBank("spot", CAL, own, q=1e-3)
    bank.process(["a", "x"], np.zeros(2))
    state = json.loads(json.dumps(bank.state()))
    restored = ThresholdBank.from_state(state, own)
    assert restored.source("a") == "own" and restored.source("x") == "shared"
    restored.process(["b"], np.zeros(1))
    fresh = ThresholdBank("spot", CAL, own, q=1e-3)
    fresh.process(["b"], np.zeros(1))
    assert restored.detector("b").state() == fresh.detector("b").state()
    without = ThresholdBank.from_state(state)  # no calibration passed: an unseen asset gets the shared fit
    assert without.detector("b").t == bank._proto.t and without.source("b") == "shared"


def test_a_bank_state_from_before_per_asset_calibration_loads():
    assets, scores = traffic(3)
    bank = ThresholdBank("spot", CAL, q=1e-3)
    bank.process(assets[:1000], scores[:1000])
    old = bank.state()
    del old["sources"]
    restored = ThresholdBank.from_state(json.loads(json.dumps(old)))
    assert [restored.source(a) for a in restored.assets] == ["shared"] * len(restored.assets)
    np.testing.assert_array_equal(
        restored.process(assets[1000:], scores[1000:])[1], bank.process(assets[1000:], scores[1000:])[1]
    )


class _Settings:
    method, q, level, depth, refit_every, max_shape, max_peak_ratio = "dspot", 1e-3, 0.98, 7, 3, 0.3, 4.0


def test_from_settings_reads_the_config_section():
    bank = ThresholdBank.from_settings(_Settings(), CAL)
    det = bank.detector("a")
    assert (bank.method, det.q, det.level, det.depth, det.refit_every, det.max_shape, det.max_peak_ratio) == (
        "dspot",
        1e-3,
        0.98,
        7,
        3,
        0.3,
        4.0,
    )


def test_spilled_and_compact_restored_detectors_decide_bit_for_bit():
    """Packing idle detectors (``spill``) and the checkpoint's compact state change no decision, threshold or
    per-window peak count; an asset with its own calibration keeps its own peaks; a held fit stays a dict."""
    assets, scores = traffic(3, 12_000)
    own = {"a0": np.random.default_rng(5).exponential(size=800)}
    plain = ThresholdBank("dspot", CAL, own, q=1e-3, depth=6)
    spilled = ThresholdBank("dspot", CAL, own, q=1e-3, depth=6)
    packed_some = False
    for lo in range(0, len(assets), 500):
        a, s = assets[lo : lo + 500], scores[lo : lo + 500]
        sub = [x for x in a if x != "a4"] if lo % 1000 else a  # a4 sits out every other batch: it gets spilled
        keep = np.array([x in sub for x in a])
        a = [x for x, k in zip(a, keep, strict=True) if k]
        r1, t1 = plain.process(a, s[keep])
        n1 = plain.last_n_peaks
        r2, t2 = spilled.process(a, s[keep])
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(t1, t2)
        np.testing.assert_array_equal(n1, spilled.last_n_peaks)
        packed_some |= spilled.spill() > 0
        if lo % 2000 == 0:
            spilled = ThresholdBank.from_state(spilled.compact_state(), own)
    assert packed_some and spilled.source("a0") == "own"
    assert spilled.state() == plain.state()
    compact = spilled.compact_state()
    assert compact["assets"] == {} and len(compact["packed"]["names"]) == 5
    assert compact["packed"]["data"].size < 5 * 300  # shared calibration peaks are not copied per asset


def test_compact_state_is_small_per_asset():
    bank = ThresholdBank("dspot", CAL, q=1e-3, depth=10)
    names = [f"asset-{i}" for i in range(2000)]
    bank.process(names, np.random.default_rng(1).exponential(size=2000))
    data = bank.compact_state()["packed"]["data"]
    assert data.size / 2000 < 40  # 13 header values + the 10-value window + a few peaks and clock ticks


def test_an_asset_idle_longer_than_the_expiry_restarts_from_its_calibration_the_same_after_a_restore():
    bank = ThresholdBank("spot", CAL, q=1e-3)
    fresh_n = ThresholdBank("spot", CAL, q=1e-3).detector("a").n
    rng = np.random.default_rng(2)
    assert bank.expire(["a", "b"], np.array([0.0, 0.0]), 100.0) == []
    bank.process(["a", "b"] * 50, rng.exponential(size=100))
    assert bank.expire(["a", "b"], np.array([50.0, 100.0]), 100.0) == []  # gaps of 50 and 100: not over 100
    assert bank.detector("a").n == fresh_n + 50
    restored = ThresholdBank.from_state(bank.compact_state())
    for b in (bank, restored):
        assert b.expire(["b", "a"], np.array([150.0, 151.0]), 100.0) == ["a"]  # a: 101 s after 50
        assert b.detector("a").n == fresh_n and b.detector("b").n == fresh_n + 50


@pytest.mark.parametrize(
    "method, params, extra",
    [
        ("spot", {"q": 1e-3, "level": 0.9}, {}),
        ("dspot", {"q": 2e-3, "level": 0.95, "depth": 4}, {"depth": 4}),
    ],
)
def test_describe_is_the_alerts_threshold_part(method, params, extra):
    bank = ThresholdBank(method, CAL, **params)
    bank.process(["a"] * 300, np.random.default_rng(3).exponential(size=300))
    peaks_now = bank.detector("a").n_peaks
    assert bank.describe("a") == {
        "method": method,
        "q": params["q"],
        "level": params["level"],
        "n_peaks": peaks_now,
        **extra,
    }
    assert bank.describe("a", 7)["n_peaks"] == 7  # the window's own count, when the caller has it
    assert list(bank.describe("a")) == ["method", "q", "level", "n_peaks", *extra]  # the alert's key order
