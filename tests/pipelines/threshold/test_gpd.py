import math

import numpy as np
import pytest
from scipy.stats import genpareto

from pipelines.threshold.gpd import grimshaw, log_likelihood, tail_quantile


def test_tail_quantile_exponential_case_by_hand():
    # q n / N_t = 1e-3 * 1000 / 20 = 0.05; z = t - sigma log 0.05 = 1 + 2 * 2.995732...
    assert tail_quantile(1.0, 0.0, 2.0, 1e-3, 1000, 20) == pytest.approx(1.0 + 2.0 * math.log(20.0), rel=1e-14)
    assert tail_quantile(1.0, 0.0, 2.0, 1e-3, 1000, 20) == pytest.approx(6.991464547107982, rel=1e-14)


def test_tail_quantile_gpd_case_by_hand():
    # z = t + sigma/gamma (0.05^-gamma - 1) = 1 + 2 (sqrt(20) - 1) for gamma = 0.5, sigma = 1
    assert tail_quantile(1.0, 0.5, 1.0, 1e-3, 1000, 20) == pytest.approx(1.0 + 2.0 * (math.sqrt(20.0) - 1.0))
    # negative shape: bounded tail, z below the endpoint t + sigma/|gamma|
    z = tail_quantile(1.0, -0.5, 1.0, 1e-3, 1000, 20)
    assert z == pytest.approx(1.0 - 2.0 * (20.0**-0.5 - 1.0))
    assert z < 1.0 + 2.0


def test_tail_quantile_is_continuous_in_gamma_at_zero():
    z0 = tail_quantile(3.0, 0.0, 1.5, 1e-4, 5000, 100)
    assert tail_quantile(3.0, 1e-9, 1.5, 1e-4, 5000, 100) == pytest.approx(z0, rel=1e-7)
    assert tail_quantile(3.0, -1e-9, 1.5, 1e-4, 5000, 100) == pytest.approx(z0, rel=1e-7)


def test_tail_quantile_matches_scipy_genpareto_isf():
    # z_q is the GPD quantile of the excesses at tail probability q n / N_t, shifted by t
    t, gamma, sigma, q, n, nt = 2.0, 0.3, 1.7, 1e-3, 10_000, 250
    expected = t + genpareto.isf(q * n / nt, gamma, loc=0.0, scale=sigma)
    assert tail_quantile(t, gamma, sigma, q, n, nt) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("shape", [-0.4, -0.1, 0.0, 0.25, 0.6])
def test_grimshaw_matches_scipy_mle(shape):
    rng = np.random.default_rng(7)
    y = genpareto.rvs(shape, scale=1.3, size=400, random_state=rng)
    gamma, sigma = grimshaw(y)
    c, _, scale = genpareto.fit(y, floc=0.0)
    assert gamma == pytest.approx(c, abs=2e-3)
    assert sigma == pytest.approx(scale, rel=2e-3)
    # Grimshaw's estimate is at least as likely as scipy's numerical optimum
    assert log_likelihood(y, gamma, sigma) >= genpareto.logpdf(y, c, 0.0, scale).sum() - 1e-6


def test_grimshaw_tiny_sample_is_a_likelihood_maximum():
    y = np.array([0.1, 0.4, 0.5, 1.2, 3.0])
    gamma, sigma = grimshaw(y)
    ll = log_likelihood(y, gamma, sigma)
    for dg in (-1e-3, 1e-3):
        for ds in (-1e-3, 1e-3):
            assert ll >= log_likelihood(y, gamma + dg, sigma + ds)
    assert ll >= log_likelihood(y, 0.0, float(y.mean()))


def test_grimshaw_exponential_fallback():
    # equal peaks: no root away from 0, the exponential case with sigma = mean is returned
    assert grimshaw(np.full(12, 0.7)) == (0.0, pytest.approx(0.7))
    # the exponential log-likelihood has the closed form -N log(mean) - N
    y = np.array([0.5, 1.0, 2.5])
    assert log_likelihood(y, 0.0, 4.0 / 3.0) == pytest.approx(-3 * math.log(4.0 / 3.0) - 3)


def test_grimshaw_is_order_independent():
    rng = np.random.default_rng(3)
    y = rng.exponential(size=300) * 2.0
    assert grimshaw(y) == grimshaw(y[::-1]) == grimshaw(rng.permutation(y))


def test_grimshaw_rejects_non_positive():
    with pytest.raises(ValueError, match="positive excesses"):
        grimshaw(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="positive excesses"):
        grimshaw(np.array([]))


def test_bounded_shape_is_the_profile_maximum_on_the_boundary():
    from scipy.stats import genpareto

    from pipelines.threshold.gpd import log_likelihood

    y = genpareto.rvs(1.3, scale=2.0, size=2000, random_state=np.random.default_rng(9))
    free = grimshaw(y)
    assert free[0] > 1.0
    gamma, sigma = grimshaw(y, max_shape=0.5)
    assert gamma == 0.5
    fixed = genpareto.fit(y, f0=0.5, floc=0.0)  # scipy's MLE of the scale at the same fixed shape
    assert sigma == pytest.approx(fixed[2], rel=1e-4)
    ll = log_likelihood(y, gamma, sigma)
    assert ll >= max(log_likelihood(y, 0.5, sigma * f) for f in (0.99, 1.01))
    assert grimshaw(y, max_shape=5.0) == free  # a bound above the free maximum changes nothing
