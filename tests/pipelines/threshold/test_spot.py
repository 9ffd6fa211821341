import json
import math

import numpy as np
import pytest
from scipy.stats import genpareto

from pipelines.threshold import DSPOT, SPOT
from pipelines.threshold.gpd import grimshaw


def exp_quantiles(n: int) -> np.ndarray:
    """A 'perfect' Exp(1) sample: the (i - 1/2)/n quantiles, shuffled deterministically."""
    x = -np.log1p(-(np.arange(1, n + 1) - 0.5) / n)
    return np.random.default_rng(0).permutation(x)


def test_initialize_by_hand():
    cal = exp_quantiles(1000)
    s = SPOT(q=1e-3, level=0.98)
    s.initialize(cal)
    srt = np.sort(cal)
    t = srt[979] + 0.02 * (srt[980] - srt[979])  # linear quantile at position 0.98 * 999 = 979.02
    assert s.t == pytest.approx(t, rel=1e-14)
    assert s.n == 1000 and s.n_peaks == 20
    np.testing.assert_allclose(np.sort(s.peaks), srt[980:] - t)
    # independent z_q: scipy's GPD MLE on the same peaks, plugged into the paper's formula
    c, _, scale = genpareto.fit(srt[980:] - t, floc=0.0)
    z_scipy = t + scale / c * ((1e-3 * 1000 / 20) ** -c - 1)
    assert s.z == pytest.approx(z_scipy, rel=1e-3)
    # the exponential tail extrapolates to the true 0.999 quantile, -log(1e-3) = 6.91, within 5%
    assert s.z == pytest.approx(-math.log(1e-3), rel=0.05)
    assert (s.gamma, s.sigma) == pytest.approx(grimshaw(srt[980:] - t), rel=1e-9)


@pytest.mark.parametrize(
    "dist, true_quantile",
    [
        ("exponential", lambda q: -math.log(q)),
        ("gumbel", lambda q: -math.log(-math.log1p(-q))),
    ],
)
def test_known_series_quantile_and_alarm_rate(dist, true_quantile):
    """Tolerances from 30 seeds of this exact setup: z_q had a relative sd of 2.4% (exp) / 2.1% (Gumbel), worst
    7% / 5%, hence 10%. The alarm rate on 20k fresh draws ranged 0.7q..2.1q (mean 1.3q: alarms are censored out
    of the peaks, which biases the refitted tail light), hence [0.3q, 3q]."""
    q = 1e-3
    rng = np.random.default_rng(11)
    draw = getattr(rng, dist)
    s = SPOT(q=q)
    s.initialize(draw(size=20_000))
    assert s.z == pytest.approx(true_quantile(q), rel=0.10)
    alarms, _ = s.update(draw(size=20_000))
    assert 0.3 * q <= alarms.mean() <= 3.0 * q


def test_alarms_do_not_enter_the_peaks():
    s = SPOT(q=1e-3)
    s.initialize(exp_quantiles(2000))
    before = s.state()
    alarm, thr = s.step(s.z + 5.0)
    assert alarm and thr == before["z"]
    assert s.state() == before
    alarms, _ = s.update(np.full(50, s.z * 3))
    assert alarms.all() and s.state() == before

    x = (s.t + s.z) / 2
    alarm, thr = s.step(x)
    assert not alarm and thr == before["z"]
    assert (s.n, s.n_peaks) == (before["n"] + 1, before["n_peaks"] + 1)
    assert s.peaks[-1] == pytest.approx(x - s.t)
    assert s.z != before["z"]

    z = s.z
    assert s.step(s.t - 1.0) == (False, z)
    assert s.n == before["n"] + 2 and s.z == z


def test_refit_every_and_peak_cap():
    s = SPOT(q=1e-3, max_peaks=40, refit_every=3, guard_peaks=100)  # 53 peaks in a row: not yet a trip
    s.initialize(exp_quantiles(1000))
    g0, z0, n_peaks0 = s.gamma, s.z, s.n_peaks
    mid = (s.t + s.z) / 2
    s.step(mid)
    s.step(mid)
    assert s.gamma == g0 and s.z != z0  # z follows n and N_t, the fit waits for the 3rd peak
    s.step(mid)
    assert s.gamma != g0
    cal_peaks = s.peaks[:n_peaks0]
    for _ in range(50):
        s.step((s.t + s.z) / 2)
    # the calibration peaks stay, the 53 stream peaks are capped to the latest 40; N_t counts them all
    assert len(s.peaks) == n_peaks0 + 40 and s.n_peaks == n_peaks0 + 53
    np.testing.assert_array_equal(s.peaks[:n_peaks0], cal_peaks)


CONFIGS = [
    (SPOT, {}),
    (SPOT, {"max_peaks": 30, "refit_every": 4}),
    (DSPOT, {"depth": 5}),
    (DSPOT, {"depth": 3, "max_peaks": 50}),
    (SPOT, {"guard_peaks": 10, "refit_every": 3}),
    (DSPOT, {"depth": 3, "guard_peaks": 10}),
]


def stream(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.exponential(size=6000)
    x[rng.integers(0, 6000, 40)] += 15.0
    x[3000:3300] += 8.0
    x[4000:4600] = 4.0 + 2.5 * rng.random(600)  # between t and z_q for SPOT: the runaway guard holds its fit
    x[4600:5200:2], x[4601:5200:2] = 0.0, 5.0  # a residual between t and z_q for DSPOT
    return x


@pytest.mark.parametrize("cls, kw", CONFIGS)
def test_update_equals_sequential_steps(cls, kw):
    a = cls(q=1e-3, **kw)
    a.initialize(np.random.default_rng(1).exponential(size=3000))
    b = a.clone()
    xs = stream(2)
    alarms, thr = a.update(xs)
    steps = [b.step(x) for x in xs]
    assert alarms.sum() > 10
    np.testing.assert_array_equal(alarms, [s[0] for s in steps])
    np.testing.assert_array_equal(thr, [s[1] for s in steps])
    assert a.state() == b.state()


@pytest.mark.parametrize("cls, kw", CONFIGS)
def test_state_round_trip_is_bit_identical(cls, kw):
    a = cls(q=1e-3, **kw)
    a.initialize(np.random.default_rng(1).exponential(size=3000))
    xs = stream(3)
    a.update(xs[:2500])
    b = cls.from_state(json.loads(json.dumps(a.state())))
    assert b.threshold == a.threshold
    alarms_a, thr_a = a.update(xs[2500:])
    steps_b = [b.step(x) for x in xs[2500:]]
    np.testing.assert_array_equal(alarms_a, [s[0] for s in steps_b])
    np.testing.assert_array_equal(thr_a, [s[1] for s in steps_b])
    assert a.state() == b.state()


def test_from_state_rejects_other_kind():
    s = SPOT()
    s.initialize(exp_quantiles(1000))
    with pytest.raises(ValueError, match="'spot', not 'dspot'"):
        DSPOT.from_state(s.state())


@pytest.mark.parametrize(
    "kw, msg",
    [
        ({"q": 0.0}, r"q must be in \(0, 1\), got 0.0"),
        ({"q": 1.0}, r"q must be in \(0, 1\)"),
        ({"level": 1.0}, r"level must be in \(0, 1\), got 1.0"),
        ({"level": -0.1}, r"level must be in \(0, 1\)"),
        ({"q": 0.05, "level": 0.98}, r"q=0.05 must be below 1 - level"),
        ({"refit_every": 0}, "refit_every must be >= 1"),
        ({"max_peaks": -1}, "max_peaks must be None or >= 0, got -1"),
    ],
)
def test_parameter_errors(kw, msg):
    with pytest.raises(ValueError, match=msg):
        SPOT(**kw)


def test_calibration_errors():
    with pytest.raises(ValueError, match="need at least 500 calibration scores .* got 499"):
        SPOT(level=0.98).initialize(np.arange(499.0))
    ties = np.concatenate([np.zeros(970), np.ones(30)])
    with pytest.raises(ValueError, match="calibration gives 0 peaks .* need at least 10"):
        SPOT(level=0.98).initialize(ties)
    cal = exp_quantiles(1000)
    cal[17] = np.nan
    with pytest.raises(ValueError, match="calibration has 1 non-finite value.*index 17"):
        SPOT().initialize(cal)
    with pytest.raises(ValueError, match="need at least 510 calibration scores .*depth=10.* got 505"):
        DSPOT(depth=10).initialize(exp_quantiles(505))


def test_stream_errors_leave_state_untouched():
    s = SPOT(q=1e-3)
    with pytest.raises(RuntimeError, match="not initialised"):
        s.step(1.0)
    s.initialize(exp_quantiles(1000))
    before = s.state()
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="score must be finite"):
            s.step(bad)
    xs = np.array([0.1, 0.2, s.t + 0.01, np.inf])
    with pytest.raises(ValueError, match=r"scores has 1 non-finite value\(s\), first at index 3"):
        s.update(xs)
    assert s.state() == before


def test_capped_peaks_do_not_run_away_on_a_stationary_stream():
    """Stream peaks are censored at z_q (alarms are left out), so a fit on stream peaks alone drifts to a light tail,
    a lower z_q and more censoring. With only the latest 100 stream peaks as the sample this ran away to 11-14q
    alarms in the last 20k of 60k Exp(1) draws (gamma -0.8); keeping the calibration peaks holds it at 1.3-1.5q."""
    q = 1e-3
    rng = np.random.default_rng(0)
    s = SPOT(q=q, max_peaks=100)
    s.initialize(rng.exponential(size=20_000))
    alarms, _ = s.update(rng.exponential(size=60_000))
    assert alarms[40_000:].mean() < 4 * q
    assert s.gamma > -0.3
