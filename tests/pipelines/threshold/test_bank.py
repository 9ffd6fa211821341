import json

import numpy as np
import pytest

from pipelines.threshold import DSPOT, SPOT, ThresholdBank
from pipelines.threshold.bench import run_synthetic as bench_run

CAL = np.random.default_rng(0).exponential(size=3000)


def traffic(seed: int, n: int = 4000) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    assets = [f"a{i}" for i in rng.integers(0, 5, n)]
    scores = rng.exponential(size=n)
    scores[rng.integers(0, n, 15)] += 12.0
    return assets, scores


@pytest.mark.parametrize("batch", [7, 333])  # few windows per asset take scalar steps, many the vectorised path
@pytest.mark.parametrize("method, cls, params", [
    ("spot", SPOT, {"q": 1e-3}),
    ("dspot", DSPOT, {"q": 1e-3, "depth": 4, "absorb_after": 5}),
])
def test_interleaved_assets_are_independent(method, cls, params, batch):
    assets, scores = traffic(1)
    bank = ThresholdBank(method, CAL, **params)
    alarms = np.empty(len(scores), dtype=bool)
    thr = np.empty(len(scores))
    for s in range(0, len(scores), batch):
        alarms[s:s + batch], thr[s:s + batch] = bank.process(assets[s:s + batch], scores[s:s + batch])
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
    bank.process(["old"] * 50, np.full(50, fresh.t + 0.1))  # 50 peaks move "old"'s threshold
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
