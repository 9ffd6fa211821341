"""The runaway of held-out server data, rebuilt from real data: SPOT calibrated on SKAB's anomaly-free run (the
detrended score of test_skab_level_shift), then 3,000 windows whose scores sit between t and z_q (the real scores'
calibration ranks mapped log-uniformly into (t, z_q)), then the real run again with a 50-window fault at 1.5 z_q."""

import numpy as np
import pytest

from pipelines.threshold import SPOT, ThresholdBank
from tests.pipelines.threshold.test_skab_level_shift import SKAB, detrended_score

pytestmark = pytest.mark.skipif(not SKAB.exists(), reason="SKAB data not available")
STRETCH, FAULT = slice(500, 3500), slice(4000, 4050)
UNGUARDED = {"max_shape": 1e9, "max_peak_ratio": 1e9}


@pytest.fixture(scope="module")
def run() -> tuple[np.ndarray, np.ndarray]:
    rows = np.genfromtxt(SKAB, delimiter=";", skip_header=1, usecols=range(1, 9))
    s = detrended_score(rows, 4000)[60:]
    cal, stream = s[:3940], s[3940:].copy()
    probe = SPOT()
    probe.initialize(cal)
    t, z0 = probe.t, probe.z
    u = (np.searchsorted(np.sort(cal), stream[STRETCH]) + 0.5) / (cal.size + 1)
    stream[STRETCH] = t + (z0 - t) * np.exp(np.log(1e-3) * (1.0 - u))
    stream[FAULT] = 1.5 * z0
    return cal, stream


def test_unguarded_spot_goes_blind(run):
    cal, stream = run
    s = SPOT(**UNGUARDED)
    s.initialize(cal)
    z0 = s.z
    alarms, thr = s.update(stream)
    assert s.n_peaks / s.n > 0.3 and s.gamma > 1.0  # what the server data showed: N_t/n 0.35, shape 1.36
    assert thr[FAULT].min() > 1000 * z0 and not alarms[FAULT].any()  # z_q above every score: the fault is missed
    assert s.take_trips() == []


def test_the_guard_holds_the_fit_reports_it_and_the_fault_alarms(run):
    cal, stream = run
    s = SPOT()
    s.initialize(cal)
    z0 = s.z
    alarms, thr = s.update(stream)
    trips = s.take_trips()
    assert "peak_rate" in [k for k, _ in trips] and s.take_trips() == []  # reported once
    assert s.guard.startswith("peak rate") and "normal has moved" in s.guard
    assert thr.max() < 2 * z0 and thr[FAULT].max() <= 1.01 * z0
    assert alarms[FAULT].all()
    assert alarms[STRETCH].mean() < 0.01  # the stretch itself sits under the held z_q
    assert abs(s.n_peaks / s.n - 0.02) < 0.005  # the dense peaks are out of the fit


def test_the_bank_names_the_asset_and_a_held_fit_survives_a_restore(run):
    import json

    cal, stream = run
    bank = ThresholdBank("spot", cal)
    bank.process(["pump"] * 3600, stream[:3600])
    trips = bank.take_guard_trips()
    assert ("pump", "peak_rate") in [(a, k) for a, k, _ in trips]
    assert list(bank.guarded()) == ["pump"]
    restored = ThresholdBank.from_state(json.loads(json.dumps(bank.state())))
    assert restored.guarded() == bank.guarded()
    rest = stream[3600:]
    np.testing.assert_array_equal(
        restored.process(["pump"] * rest.size, rest)[1], bank.process(["pump"] * rest.size, rest)[1]
    )


def test_the_hold_is_released_once_the_peak_rate_is_normal_again(run):
    cal, stream = run
    s = SPOT()
    s.initialize(cal)
    s.update(stream[:3600])
    assert s.guard
    s.update(np.tile(cal, 2))  # normal again: 50 peaks at the calibration's rate release it
    assert s.guard == ""
