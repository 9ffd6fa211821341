"""rank-mean (pipelines/scorers/combined.py): the mean of its members' empirical-CDF ranks on validation normals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipelines.batch_encoding import encode_batch, neighbours_needed
from pipelines.scorers import make_scorer
from pipelines.scorers.normalisation import ecdf_map, ecdf_quantiles


def _enc(bundle, X, scorer):
    return encode_batch(bundle.model, bundle.reference, X, neighbours_needed(bundle.reference, scorer))


@pytest.fixture(scope="module")
def fitted(synthetic_bundle, synthetic_split):
    _, X_val, _, _ = synthetic_split
    sc = make_scorer("rank-mean", members=["ares-cal", "nln", "recon"])
    sc.fit(_enc(synthetic_bundle, X_val, sc), synthetic_bundle.reference, synthetic_bundle.model.decode)
    return sc


def test_score_is_the_mean_of_each_members_rank_among_validation_normals(fitted, synthetic_bundle, synthetic_split):
    _, X_val, X_test, _ = synthetic_split
    ref, decode = synthetic_bundle.reference, synthetic_bundle.model.decode
    enc_val, enc_te = _enc(synthetic_bundle, X_val, fitted), _enc(synthetic_bundle, X_test, fitted)
    ranks = []
    for name in ("ares-cal", "nln", "recon"):
        alone = make_scorer(name).fit(enc_val, ref, decode)
        q = ecdf_quantiles(alone.score(enc_val, ref, decode).score)
        ranks.append(ecdf_map(alone.score(enc_te, ref, decode).score, q))
    got = fitted.score(enc_te, ref, decode)
    np.testing.assert_allclose(got.score, np.mean(ranks, axis=0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.components["nln_rank"], ranks[1], rtol=0, atol=1e-12)
    # on the normals it was fitted on, each member's rank is uniform on [0, 1]: the mean score is 1/2
    on_val = fitted.score(enc_val, ref, decode)
    assert on_val.score.mean() == pytest.approx(0.5, abs=0.01)
    for key in ("ares-cal_rank", "nln_rank", "recon_rank"):
        assert on_val.components[key].min() >= 0.0 and on_val.components[key].max() <= 1.0


def test_a_members_scale_does_not_matter(synthetic_bundle, synthetic_split):
    """Ranks see only the order of a member's scores: recon's error x 1000 gives the same combination."""
    _, X_val, X_test, _ = synthetic_split
    ref, decode = synthetic_bundle.reference, synthetic_bundle.model.decode
    sc = make_scorer("rank-mean", members=["recon", "nln"])
    enc_val, enc_te = _enc(synthetic_bundle, X_val, sc), _enc(synthetic_bundle, X_test, sc)
    a = sc.fit(enc_val, ref, decode).score(enc_te, ref, decode).score
    scaled = [type(e)(e.x, e.z, e.xhat, e.err * 1000.0, e.nbr_idx, e.nbr_dist, e.extra) for e in (enc_val, enc_te)]
    b = sc.fit(scaled[0], ref, decode).score(scaled[1], ref, decode).score
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)


def test_state_round_trips_through_json_with_the_members_states(fitted, synthetic_bundle, synthetic_split):
    _, _, X_test, _ = synthetic_split
    state = json.loads(json.dumps(fitted.state()))
    assert sorted(state) == ["ares-cal", "nln", "recon"]
    assert state["nln"]["state"]["ranges"] == fitted.members["nln"].ranges
    again = make_scorer("rank-mean", **json.loads(json.dumps(fitted.params())))
    again.load_state(state)
    ref, decode = synthetic_bundle.reference, synthetic_bundle.model.decode
    enc = _enc(synthetic_bundle, X_test, fitted)
    np.testing.assert_array_equal(again.score(enc, ref, decode).score, fitted.score(enc, ref, decode).score)


def test_a_state_for_other_members_is_refused(fitted):
    other = make_scorer("rank-mean", members=["ares-cal", "nln"])
    with pytest.raises(ValueError, match="state has members"):
        other.load_state(fitted.state())
    bad = json.loads(json.dumps(fitted.state()))
    bad["nln"]["quantiles"] = bad["nln"]["quantiles"][::-1]
    again = make_scorer("rank-mean", **fitted.params())
    with pytest.raises(ValueError, match="member 'nln'.*nondecreasing"):
        again.load_state(bad)


def test_unfitted_refuses_to_score(synthetic_bundle, synthetic_split):
    sc = make_scorer("rank-mean")
    with pytest.raises(RuntimeError, match="fitted"):
        sc.score(_enc(synthetic_bundle, synthetic_split[2], sc), synthetic_bundle.reference, None)


def test_default_members_and_what_the_model_needs():
    sc = make_scorer("rank-mean")
    assert sc.params() == {"members": ["ares-cal", "nln"]}
    assert sc.variants is None and sc.k_needed == 10
    assert make_scorer("rank-mean", members=["ares-knn", "nln"]).k_needed == 20
    bound = make_scorer("rank-mean", members=["recon", "lfr"])
    assert bound.variants == ("lfr", "lfr-b")


@pytest.mark.parametrize(
    "members, message",
    [
        (["ares-cal", "nope"], r"unknown member scorer 'nope'; choose from \[.*'nln'"),
        (["nln"], "at least two"),
        ("nln", "at least two"),
        (["nln", "nln"], "distinct"),
        (["rank-mean", "nln"], "itself a combination"),
        (["lfr", "vae-elbo"], "share no training variant"),
    ],
)
def test_bad_member_lists_get_a_clear_error(members, message):
    with pytest.raises(ValueError, match=message):
        make_scorer("rank-mean", members=members)
