"""ares-rank's empirical-CDF map of each part (pipelines.scorers.normalisation.ecdf_quantiles / ecdf_map)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipelines.scorers import make_scorer
from pipelines.scorers.normalisation import RANK_QUANTILES, ecdf_map, ecdf_quantiles


def test_continuous_values_map_to_their_empirical_cdf():
    v = np.random.default_rng(0).normal(0.0, 1.0, 50_000)
    q = ecdf_quantiles(v)
    assert q.shape == (RANK_QUANTILES,)
    x = np.array([-1.0, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(ecdf_map(x, q), [(v <= t).mean() for t in x], atol=2e-3)


def test_ties_get_the_mid_rank_of_their_block_even_with_float_noise():
    rng = np.random.default_rng(1)
    v = np.r_[1.0 + rng.normal(0, 1e-16, 7500), 1.0 + rng.exponential(100.0, 2500)]  # EOPT-like LOF
    q = ecdf_quantiles(v)
    f = ecdf_map(np.array([1.0, 1.0 + 2e-16, 1.0 - 2e-16]), q)
    assert np.all(f == f[0]) and f[0] == pytest.approx(0.375, abs=2e-3)
    assert ecdf_map(np.array([1.5]), q)[0] > 0.75  # just above the tie: above the whole block


def test_map_is_monotone_and_extrapolates_beyond_the_validation_range():
    rng = np.random.default_rng(2)
    v = np.r_[np.zeros(300), rng.lognormal(0, 2, 700), -rng.exponential(1, 100)]
    q = ecdf_quantiles(v)
    x = np.sort(np.r_[v, np.linspace(-50, 1e6, 10_000), [np.inf]])
    f = ecdf_map(x, q)
    assert np.all(np.diff(f) >= 0)
    big = np.array([q[-1] * 2, q[-1] * 10, q[-1] * 100])
    assert np.all(np.diff(ecdf_map(big, q)) > 0) and ecdf_map(big, q)[0] > 1.0  # large anomalies stay ordered
    assert ecdf_map(np.array([q[0] - 1.0]), q)[0] < 0.0
    assert ecdf_map(np.array([np.inf]), q)[0] == np.inf
    assert 0.0 <= ecdf_map(np.array([0.0]), q)[0] <= 1.0


def test_a_constant_part_maps_to_one_half_and_beyond_by_its_own_value():
    q = ecdf_quantiles(np.full(100, 7.0))
    assert ecdf_map(np.array([7.0]), q)[0] == 0.5
    assert ecdf_map(np.array([6.0, 8.0, 9.0]), q).tolist() == [-0.5, 1.5, 2.0]


def test_state_is_bounded_and_survives_json(snsr_bundle, snsr_split):
    from pipelines.batch_encoding import encode_batch, neighbours_needed

    _, X_val, X_test, _ = snsr_split
    sc = make_scorer("ares-rank")
    k = neighbours_needed(snsr_bundle.reference, sc)
    sc.fit(encode_batch(snsr_bundle.model, snsr_bundle.reference, X_val, k), snsr_bundle.reference, None)
    st = json.loads(json.dumps(sc.state()))
    assert len(st["quantiles_r"]) == len(st["quantiles_d"]) == RANK_QUANTILES
    again = make_scorer("ares-rank", **sc.params())
    again.load_state(st)
    enc = encode_batch(snsr_bundle.model, snsr_bundle.reference, X_test, k)
    np.testing.assert_array_equal(
        again.score(enc, snsr_bundle.reference, None).score, sc.score(enc, snsr_bundle.reference, None).score
    )
    with pytest.raises(ValueError, match="nondecreasing"):
        again.load_state({"quantiles_r": [2.0, 1.0], "quantiles_d": st["quantiles_d"]})
