import numpy as np
import pytest

from pipelines.threshold import DSPOT, SPOT


def drifting(n: int, seed: int, slope: float = 2e-3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return slope * np.arange(n) + rng.exponential(size=n)


def test_calibration_residuals_by_hand():
    x = drifting(1200, 0)
    d = DSPOT(q=1e-3, level=0.98, depth=3)
    d.initialize(x)
    moving = np.convolve(x, np.ones(3) / 3, mode="valid")[:-1]  # mean of x[i-3:i] for i = 3..
    residuals = x[3:] - moving
    assert d.n == 1197
    assert d.t == pytest.approx(np.quantile(residuals, 0.98), rel=1e-12)
    assert d.n_peaks == int((residuals > d.t).sum())
    np.testing.assert_array_equal(d.window, x[-3:])
    assert d.threshold == pytest.approx(x[-3:].mean() + d.z, rel=1e-12)


def test_threshold_is_in_score_units_and_window_skips_alarms():
    d = DSPOT(q=1e-3, depth=4)
    d.initialize(drifting(2000, 1))
    window = d.window.copy()
    expected = window.mean() + d.z
    alarm, thr = d.step(expected + 100.0)
    assert alarm and thr == pytest.approx(expected, rel=1e-12)
    np.testing.assert_array_equal(d.window, window)
    alarm, _ = d.step(window.mean())
    assert not alarm
    np.testing.assert_array_equal(d.window, np.append(window[1:], window.mean()))


def test_slow_drift_floods_spot_not_dspot():
    """Flat calibration, then +0.01 per window (one noise sd per 100 windows). SPOT's peaks cannot keep up and it
    alarms on nearly everything; DSPOT's moving average follows. (At +0.005/window SPOT still keeps up, but only by
    turning every window into a peak and refitting on each.)"""
    rng = np.random.default_rng(2)
    x = rng.exponential(size=10_000) + 0.01 * np.maximum(np.arange(10_000) - 3000, 0)
    q = 1e-3
    spot, dspot = SPOT(q=q), DSPOT(q=q)
    spot.initialize(x[:3000])
    dspot.initialize(x[:3000])
    spot_alarms, _ = spot.update(x[3000:])
    dspot_alarms, _ = dspot.update(x[3000:])
    assert spot_alarms.mean() > 0.8
    assert dspot_alarms.mean() < 5 * q


def test_a_level_step_above_z_q_stays_alarmed_for_as_long_as_it_lasts():
    """An alarm never enters the window (the paper's rule): a step far above z_q alarms on every window of the
    step, however long, and the alarms stop on the first window after it."""
    rng = np.random.default_rng(3)
    x = rng.exponential(size=8000)
    x[5000:7000] += 50.0
    d = DSPOT(q=1e-3, depth=10)
    d.initialize(x[:3000])
    alarms, _ = d.update(x[3000:])
    assert alarms[2000:4000].all()
    assert alarms[4000:].mean() < 5e-3 and not alarms[4000:4010].any()
    assert d.guard == ""  # alarms are not peaks: a fault does not trip the runaway guard


def test_isolated_spikes_stay_out_of_the_window():
    d = DSPOT(q=1e-3, depth=5)
    d.initialize(drifting(2000, 4, slope=0.0))
    window = d.window.copy()
    for _ in range(40):
        assert d.step(1e3)[0]
    np.testing.assert_array_equal(d.window, window)
    assert not d.step(float(d.window.mean()))[0]


def test_absorb_after_is_gone_and_old_states_with_it_are_refused():
    with pytest.raises(TypeError, match="absorb_after"):
        DSPOT(absorb_after=30)
    d = DSPOT(q=1e-3, depth=5)
    d.initialize(drifting(2000, 5, slope=0.0))
    old = d.state()
    del old["clock"], old["peak_clock"], old["guard"], old["shape_bound"]
    for k in ("max_shape", "max_peak_ratio", "guard_peaks"):
        del old["params"][k]
    old["run"] = 0
    paper = {**old, "params": {**old["params"], "absorb_after": None}}
    restored = DSPOT.from_state(paper)  # the paper's rule: continues, with the guard's defaults
    assert restored.threshold == d.threshold and restored.guard == ""
    xs = drifting(500, 6, slope=0.0)
    np.testing.assert_array_equal(restored.update(xs)[1], d.update(xs)[1])
    with pytest.raises(ValueError, match="absorbed alarms into its baseline \\(absorb_after=30\\).*calibration"):
        DSPOT.from_state({**old, "params": {**old["params"], "absorb_after": 30}})
