"""AE-LFR's scorer (pipelines/scorers/lfr.py) beyond the shared contract: which error each score is, and the clear
errors where it meets a model without an LFR layer."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.batch_encoding import encode_batch
from pipelines.fit import TrainSpec, fit_calibrated
from pipelines.scorers import make_scorer


def test_score_b_is_the_decoder_fed_the_projected_latent(synthetic_lfr_bundle, synthetic_split):
    model, ref = synthetic_lfr_bundle.model, synthetic_lfr_bundle.reference
    X_test = synthetic_split[2]
    enc = encode_batch(model, ref, X_test, ref.k)
    A = model.parts.A.numpy().astype(np.float64)
    zp = enc.z @ A.T @ A
    expected = ((model.decode(zp) - enc.x) ** 2).sum(axis=1)
    s_b = make_scorer("lfr").score(enc, ref, model.decode)
    np.testing.assert_allclose(s_b.score, expected, rtol=1e-4)
    np.testing.assert_allclose(s_b.components["lfr_residual"], np.linalg.norm(enc.z - zp, axis=1), rtol=1e-4)
    s_a = make_scorer("lfr", score="A").score(enc, ref, model.decode)
    np.testing.assert_array_equal(s_a.score, make_scorer("recon").score(enc, ref, model.decode).score)
    assert not np.allclose(s_a.score, s_b.score)


def test_on_a_plain_autoencoder_it_says_what_it_needs(synthetic_bundle, synthetic_split):
    model, ref = synthetic_bundle.model, synthetic_bundle.reference
    enc = encode_batch(model, ref, synthetic_split[2][:5], ref.k)
    assert enc.extra == {}
    with pytest.raises(ValueError, match="needs a model trained with an LFR variant"):
        make_scorer("lfr").score(enc, ref, model.decode)


def test_training_refuses_the_lfr_scorer_with_the_plain_variant_before_training(synthetic_split):
    with pytest.raises(ValueError, match="scorer 'lfr' scores models of training variant lfr or lfr-b"):
        fit_calibrated(synthetic_split[0], TrainSpec(scorer="lfr", epochs=1))


def test_an_unknown_score_is_refused():
    with pytest.raises(ValueError, match="score must be 'A'"):
        make_scorer("lfr", score="C")
