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


def test_level_step_needs_absorb_after():
    """A step far above z_q never enters the paper's window, so DSPOT alarms forever; with absorb_after=K the
    (K+1)-th consecutive alarm on enters the window and the alarms stop after K + depth windows."""
    rng = np.random.default_rng(3)
    x = rng.exponential(size=8000)
    x[5000:] += 50.0
    paper, absorbing = DSPOT(q=1e-3, depth=10), DSPOT(q=1e-3, depth=10, absorb_after=20)
    paper.initialize(x[:3000])
    absorbing.initialize(x[:3000])
    paper_alarms, _ = paper.update(x[3000:])
    absorbing_alarms, _ = absorbing.update(x[3000:])
    assert paper_alarms[2000:].all()
    post = absorbing_alarms[2000:]
    assert post[:20].all()
    assert post[20 + 10:].mean() < 5e-3  # back to the normal false-alarm rate after K + depth windows


def test_absorb_keeps_isolated_spikes_out_of_the_window():
    d = DSPOT(q=1e-3, depth=5, absorb_after=3)
    d.initialize(drifting(2000, 4, slope=0.0))
    window = d.window.copy()
    for _ in range(3):
        assert d.step(1e3)[0]
    np.testing.assert_array_equal(d.window, window)
    assert d.step(1e3)[0]
    assert d.window[-1] == 1e3
    assert not d.step(float(d.window.mean()))[0]
    assert d.state()["run"] == 0
