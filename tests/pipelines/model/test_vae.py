"""The VAE variant (pipelines/model/vae.py, variants.py "vae"): the mean head is the encoder, the loss is the beta-VAE's
negated ELBO, validation is deterministic, and the log-variance head travels as variant tensors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from pipelines.artifact import codec
from pipelines.fit import TrainSpec
from pipelines.model.autoencoder import AESpec, Autoencoder
from pipelines.model.vae import LOGVAR_MAX, LogVarHead, kl_to_prior
from pipelines.model.variants import PREFIX, make_variant


def _model(hidden: tuple[int, ...] = (4,)) -> tuple[Autoencoder, LogVarHead]:
    torch.manual_seed(0)
    ae = Autoencoder(AESpec(input_dim=5, hidden=hidden, latent=3))
    return ae, make_variant("vae").parts(ae.spec)


@pytest.mark.parametrize("hidden", [(4,), (6, 4), ()])
def test_the_mean_is_the_encoders_output_and_the_head_reads_its_last_hidden_layer(hidden):
    ae, head = _model(hidden)
    x = torch.randn(7, 5)
    mu, logvar = head(ae, x)
    torch.testing.assert_close(mu, ae.encoder(x))
    h = ae.encoder[:-1](x)
    torch.testing.assert_close(logvar, head.linear(h))


def test_the_log_variance_is_clipped():
    ae, head = _model()
    with torch.no_grad():
        head.linear.bias.fill_(1e6)
    assert float(head(ae, torch.randn(3, 5))[1].detach().max()) == LOGVAR_MAX


def test_kl_is_the_closed_form_of_two_gaussians():
    mu, logvar = torch.tensor([[0.0, 0.0], [1.0, -2.0]]), torch.tensor([[0.0, 0.0], [math.log(4.0), 0.0]])
    expected = torch.tensor([0.0, 0.5 * (1 + 4 - 1 - math.log(4.0)) + 0.5 * 4])
    torch.testing.assert_close(kl_to_prior(mu, logvar), expected)


def test_the_loss_is_the_reparameterised_negated_elbo_over_the_width_and_validation_decodes_the_mean():
    ae, head = _model()
    variant = make_variant("vae", beta=0.3)
    x = torch.randn(6, 5)
    mu, logvar = head(ae, x)
    torch.manual_seed(11)
    eps = torch.randn_like(mu)
    z = mu + (0.5 * logvar).exp() * eps
    kl = kl_to_prior(mu, logvar)
    expected = ((((ae.decoder(z) - x) ** 2).sum(dim=1) + 0.3 * kl) / 5).mean()
    torch.manual_seed(11)
    torch.testing.assert_close(variant.loss(ae, head, x), expected)
    val = float(((((ae.decoder(mu) - x) ** 2).sum(dim=1) + 0.3 * kl) / 5).sum().detach())
    assert variant.val_sum(ae, head, x) == pytest.approx(val, rel=1e-5)
    assert variant.val_sum(ae, head, x) == variant.val_sum(ae, head, x)


@pytest.mark.parametrize("beta", [-0.1, float("inf"), "1", True])
def test_a_bad_beta_is_refused_naming_it(beta):
    with pytest.raises(ValueError, match="vae: beta .* finite number >= 0"):
        make_variant("vae", beta=beta)
    with pytest.raises(ValueError, match="TrainSpec.variant: vae: beta"):
        TrainSpec(variant="vae", variant_params={"beta": beta})


def test_the_trained_posterior_is_narrower_than_the_prior(synthetic_vae_bundle, synthetic_split):
    model = synthetic_vae_bundle.model
    Xs = model.scaler.transform(synthetic_split[0])
    z = model.encode_scaled(Xs)[0]
    logvar = model.extra(Xs, z)["vae_logvar"]
    assert logvar.shape == z.shape and np.isfinite(logvar).all()
    assert np.exp(logvar).mean() < 0.5


def test_the_head_travels_as_variant_tensors_and_comes_back(synthetic_vae_bundle, synthetic_split, tmp_path):
    model = synthetic_vae_bundle.model
    codec.save_model(tmp_path, model)
    assert json.loads((tmp_path / "model.json").read_text())["variant"] == {"name": "vae", "params": {"beta": 1.0}}
    assert {k for k in load_file(str(tmp_path / "model.safetensors")) if k.startswith(PREFIX)} == {
        PREFIX + "linear.weight",
        PREFIX + "linear.bias",
    }
    loaded = codec.load_model(tmp_path)
    assert isinstance(loaded.parts, LogVarHead) and loaded.variant.name == "vae"
    Xs = loaded.scaler.transform(synthetic_split[2])
    z = loaded.encode_scaled(Xs)[0]
    np.testing.assert_array_equal(z, model.encode_scaled(Xs)[0])
    np.testing.assert_array_equal(loaded.extra(Xs, z)["vae_logvar"], model.extra(Xs, z)["vae_logvar"])
