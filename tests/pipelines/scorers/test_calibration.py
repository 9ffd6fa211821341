"""ARES-cal's scale of each part on validation normals (pipelines.scorers.normalisation.robust_scale)."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.scorers import make_scorer
from pipelines.scorers.normalisation import robust_scale


def test_gaussian_values_give_their_sigma_from_the_interquartile_range():
    v = np.random.default_rng(0).normal(3.0, 2.0, 200_000)
    scale, q = robust_scale(v)
    assert q == 25.0 and scale == pytest.approx(2.0, rel=0.01)
    q25, q75 = np.percentile(v, [25, 75])
    assert scale == (q75 - q25) / 1.349  # where the IQR is positive, exactly the former rule


def test_ties_widen_the_range_instead_of_falling_back_to_a_tail_dominated_std():
    rng = np.random.default_rng(1)
    # EOPT-like latent LOF on normals: 80 % tied at 1 (with float noise), a spread above it, a few huge values
    tied = 1.0 + rng.normal(0, 1e-16, 8000)
    body = 1.0 + rng.exponential(100.0, 1950)
    tail = rng.uniform(5e3, 1e4, 50)
    v = np.r_[tied, body, tail]
    scale, q = robust_scale(v)
    assert q == 10.0
    lo, hi = np.percentile(v, [10, 90])
    assert scale == pytest.approx((hi - lo) / 2.5631)
    assert 0 < scale < v.std() / 2  # the old fallback (std) was set by the 0.5 % tail
    # still tied beyond the 10-90 range: the 1-99 range
    v2 = np.r_[np.zeros(970), rng.exponential(1.0, 30)]
    assert robust_scale(v2)[1] == 1.0


def test_a_part_constant_on_normals_is_not_rescaled():
    assert robust_scale(np.full(100, 7.0)) == (1.0, -1.0)
    assert robust_scale(np.array([np.inf, np.nan])) == (1.0, -1.0)


def test_ares_cal_records_where_its_scales_came_from_and_restores_them(snsr_bundle, snsr_split):
    from pipelines.batch_encoding import encode_batch, neighbours_needed

    _, X_val, X_test, _ = snsr_split
    sc = make_scorer("ares-cal")
    k = neighbours_needed(snsr_bundle.reference, sc)
    sc.fit(
        encode_batch(snsr_bundle.model, snsr_bundle.reference, X_val, k),
        snsr_bundle.reference,
        snsr_bundle.model.decode,
    )
    st = sc.state()
    assert st["scale_r"] > 0 and st["scale_d"] > 0 and set(st["scale_from_percentile"]) == {"recon", "density"}
    again = make_scorer("ares-cal")
    again.load_state({"scale_r": st["scale_r"], "scale_d": st["scale_d"]})  # an artifact written before the field
    enc = encode_batch(snsr_bundle.model, snsr_bundle.reference, X_test, k)
    np.testing.assert_array_equal(
        again.score(enc, snsr_bundle.reference, None).score, sc.score(enc, snsr_bundle.reference, None).score
    )
