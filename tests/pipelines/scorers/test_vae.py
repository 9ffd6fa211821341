"""The VAE's scorers (pipelines/scorers/vae.py) beyond the shared contract: the Monte-Carlo estimates they are, their
seeded noise, and the clear errors where they meet a model without a log-variance head."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.batch_encoding import encode_batch
from pipelines.fit import TrainSpec, fit_calibrated
from pipelines.scorers import make_scorer


@pytest.fixture(scope="module")
def enc(synthetic_vae_bundle, synthetic_split):
    model, ref = synthetic_vae_bundle.model, synthetic_vae_bundle.reference
    return encode_batch(model, ref, synthetic_split[2], ref.k)


def test_the_scores_are_the_monte_carlo_reconstruction_and_the_negated_elbo(synthetic_vae_bundle, enc):
    model, ref = synthetic_vae_bundle.model, synthetic_vae_bundle.reference
    eps = np.random.default_rng(3).standard_normal((5, enc.z.shape[1])).astype(np.float32)
    logvar = enc.extra["vae_logvar"]
    std = np.exp(0.5 * logvar)
    recon = np.mean([((enc.x - model.decode(enc.z + std * e)) ** 2).sum(axis=1) for e in eps], axis=0)
    kl = 0.5 * (enc.z**2 + np.exp(logvar) - 1 - logvar).sum(axis=1)
    rp = make_scorer("vae-recon-prob", samples=5, seed=3).score(enc, ref, model.decode)
    np.testing.assert_allclose(rp.score, recon, rtol=1e-4)
    elbo = make_scorer("vae-elbo", samples=5, seed=3, beta=0.5).score(enc, ref, model.decode)
    np.testing.assert_allclose(elbo.score, recon + 0.5 * kl, rtol=1e-4)
    np.testing.assert_allclose(elbo.components["kl"], kl, rtol=1e-4)
    np.testing.assert_array_equal(elbo.components["recon_error"], enc.err)


def test_the_same_seed_gives_the_same_scores_and_another_seed_others(synthetic_vae_bundle, enc):
    model, ref = synthetic_vae_bundle.model, synthetic_vae_bundle.reference
    a = make_scorer("vae-elbo", seed=1).score(enc, ref, model.decode).score
    b = make_scorer("vae-elbo", seed=1).score(enc, ref, model.decode).score
    c = make_scorer("vae-elbo", seed=2).score(enc, ref, model.decode).score
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_on_a_plain_autoencoder_it_says_what_it_needs(synthetic_bundle, synthetic_split):
    model, ref = synthetic_bundle.model, synthetic_bundle.reference
    enc = encode_batch(model, ref, synthetic_split[2][:5], ref.k)
    with pytest.raises(ValueError, match="'vae-recon-prob' needs a model trained with the vae variant"):
        make_scorer("vae-recon-prob").score(enc, ref, model.decode)


def test_training_refuses_a_vae_scorer_with_another_variant_before_training(synthetic_split):
    with pytest.raises(ValueError, match="scorer 'vae-elbo' scores models of training variant vae"):
        fit_calibrated(synthetic_split[0], TrainSpec(scorer="vae-elbo", variant="lfr", epochs=1))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"score": "nll"}, "score must be 'elbo' or 'recon-prob'"),
        ({"samples": 0}, "samples .* integer >= 1"),
        ({"samples": 2.5}, "samples .* integer >= 1"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"beta": float("nan")}, "beta .* finite number >= 0"),
    ],
)
def test_bad_settings_are_refused_naming_them(params, message):
    with pytest.raises(ValueError, match=message):
        make_scorer("vae-elbo", **params)
