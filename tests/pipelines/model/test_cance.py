"""The cance training variant (pipelines/model/cance.py, pipelines/model/nce.py): the covariance loss, the
batch-normalised latent, the decoupled second stage, the noise distribution and its scale, the eq. 8 augmentation,
its settings' checks, and its parts through the artifact (`latentwatch train --spec` with cance:
tests/latentwatch/commands/test_train.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from scipy import stats

from pipelines.artifact import codec
from pipelines.fit import TrainSpec
from pipelines.model.autoencoder import AESpec, Autoencoder
from pipelines.model.cance import HEADS, CANCEParts, composite, covariance_loss
from pipelines.model.nce import NCEHead, augment, batched_moments, lognormal_mode, truncated_normal
from pipelines.model.training import TrainParams
from pipelines.model.variants import PREFIX, StageInputs, make_variant


def test_covariance_loss_is_the_mean_squared_off_diagonal_of_the_batch_covariance():
    z = torch.tensor([[1.0, 2.0, 0.0], [3.0, 1.0, 1.0], [2.0, 0.0, 5.0]])
    # by hand: column means (2, 1, 2); centred rows (-1, 1, -2), (1, 0, -1), (0, -1, 3); /(n-1) = /2
    # cov01 = (-1 + 0 + 0) / 2 = -0.5; cov02 = (2 - 1 + 0) / 2 = 0.5; cov12 = (-2 + 0 - 3) / 2 = -2.5
    expected = 2 * (0.25 + 0.25 + 6.25) / 6
    assert float(covariance_loss(z)) == pytest.approx(expected)
    assert float(covariance_loss(z[:, :1])) == 0.0  # a one-dimensional latent has no off-diagonal entry


def test_the_stage_1_loss_is_the_mse_plus_lambda_times_the_covariance_loss():
    torch.manual_seed(0)
    ae, x = Autoencoder(AESpec(input_dim=5, hidden=(4,), latent=3, latent_norm="batch")), torch.randn(8, 5)
    v = make_variant("cance", lam=2.5)
    z = ae.encoder(x)
    expected = ((ae.decoder(z) - x) ** 2).mean() + 2.5 * covariance_loss(z)
    assert float(v.loss(ae, None, x).detach()) == pytest.approx(float(expected.detach()), rel=1e-6)


def test_the_batch_normalised_latent_is_standardised_and_eval_mode_is_batch_independent():
    torch.manual_seed(0)
    ae, x = Autoencoder(AESpec(input_dim=5, hidden=(4,), latent=3, latent_norm="batch")), 3 + 2 * torch.randn(64, 5)
    z = ae.encoder(x)  # train mode: the batch's own statistics
    torch.testing.assert_close(z.mean(dim=0), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(z.var(dim=0, unbiased=False), torch.ones(3), atol=1e-3, rtol=0)
    ae.eval()
    with torch.no_grad():
        torch.testing.assert_close(ae.encoder(x[:1]), ae.encoder(x)[:1])


def test_an_old_spec_without_latent_norm_builds_the_plain_encoder():
    d = {"input_dim": 5, "hidden": [4], "latent": 3, "activation": "tanh", "dropout": 0.0}
    spec = AESpec.from_dict(d)
    assert spec.latent_norm == "none"
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in Autoencoder(spec).modules())
    with pytest.raises(ValueError, match="latent_norm must be one of"):
        AESpec(input_dim=5, latent_norm="layer")


def test_stage_2_trains_the_decoder_and_leaves_the_encoder_bit_identical():
    torch.manual_seed(0)
    ae = Autoencoder(AESpec(input_dim=6, hidden=(8,), latent=3, latent_norm="batch"))
    X = torch.randn(200, 6)
    ae.train()
    ae.encoder(X)  # running statistics away from their initial values
    ae.eval()
    enc = {k: v.clone() for k, v in ae.encoder.state_dict().items()}
    dec = {k: v.clone() for k, v in ae.decoder.state_dict().items()}
    params = TrainParams(epochs=5, patience=5, batch_size=32, device="cpu")
    fit = StageInputs(X[:150], X[150:], params, torch.Generator().manual_seed(0), progress=False)
    make_variant("cance").train_decoder(ae, fit)
    for k, v in ae.encoder.state_dict().items():
        assert torch.equal(v, enc[k]), k  # weights and the batch-norm buffers (running mean/var, batch count)
    assert any(not torch.equal(v, dec[k]) for k, v in ae.decoder.state_dict().items())


def test_batched_moments_equal_the_whole_sets_mean_and_covariance():
    rng = np.random.default_rng(0)
    C = rng.normal(size=(1000, 4)) @ rng.normal(size=(4, 4)) + 5.0
    mean, cov = batched_moments(torch.split(torch.from_numpy(C), 97))
    np.testing.assert_allclose(mean.numpy(), C.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(cov.numpy(), np.cov(C, rowvar=False), rtol=1e-9)


def test_the_lognormal_mode_from_its_moments():
    mu, sigma = -1.3, 0.7
    dist = stats.lognorm(s=sigma, scale=np.exp(mu))
    mode = lognormal_mode(torch.tensor([dist.mean()]), torch.tensor([dist.var()]))
    assert float(mode) == pytest.approx(np.exp(mu - sigma**2), rel=1e-6)


def test_the_augmented_reconstruction_features_lie_in_zero_to_the_mode():
    mode, sd = torch.tensor([0.02, 0.3]), torch.tensor([0.05, 0.1])
    u = torch.cat([torch.rand(10000, 2, generator=torch.Generator().manual_seed(0)), torch.tensor([[0.0, 0.0]])])
    draws = truncated_normal(mode, sd, u)
    assert (draws >= 0).all() and (draws <= mode).all()
    # centred at the mode: the draws pile up towards it (the truncated normal's density rises up to the mode)
    assert (draws > mode / 2).float().mean(dim=0).min() > 0.5
    c = torch.arange(12.0).reshape(4, 3) + 1.0  # [z, err, cos]: one latent column, two reconstruction features
    pick = torch.tensor([True, False, True, False])
    out = augment(c, mode, sd, pick, torch.full((4, 2), 0.5))
    torch.testing.assert_close(out[:, 0], c[:, 0])  # latents kept
    torch.testing.assert_close(out[~pick], c[~pick])  # rows not picked untouched
    assert (out[pick, 1:] <= mode).all() and (out[pick, 1:] >= 0).all()


def test_the_noise_log_density_is_the_scaled_gaussians():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(3, 3))
    cov, mean = A @ A.T + np.eye(3), np.array([1.0, -2.0, 0.5])
    head = NCEHead(3, (4,))
    head.fit_noise(torch.from_numpy(mean), torch.from_numpy(cov))
    with torch.no_grad():
        head.s.copy_(torch.tensor([-3.0, 0.0, 1.0]))
    a = (1 + np.log1p(np.exp([-3.0, 0.0, 1.0]))).astype(np.float32).astype(np.float64)
    c = rng.normal(size=(5, 3))
    expected = stats.multivariate_normal(mean, np.diag(a) @ cov @ np.diag(a)).logpdf(c)
    np.testing.assert_allclose(head.log_noise(torch.from_numpy(c)).detach().numpy(), expected, rtol=1e-5)


def test_the_trained_noise_scales_stay_at_least_one_and_the_adversary_moved_them(synthetic_cance_bundle):
    parts = synthetic_cance_bundle.model.parts
    assert isinstance(parts, CANCEParts)
    for name in HEADS:
        head = parts.head(name)
        assert (head.scale() >= 1.0).all(), name
        assert not torch.equal(head.s, torch.full_like(head.s, -6.0)), name
    assert (parts.rec_mode > 0).all()


def test_the_composite_feature_is_latent_normalised_error_and_cosine_dissimilarity():
    x = torch.tensor([[1.0, 0.0, 0.0, 1.0]])
    xhat = torch.tensor([[0.0, 1.0, 0.0, 1.0]])
    z = torch.tensor([[0.3, -0.2]])
    c = composite(x, xhat, z)
    torch.testing.assert_close(c, torch.tensor([[0.3, -0.2, 2.0 / 4, 1.0 - 1.0 / 2.0]]))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"lam": -1}, "lam .* must be a finite number >= 0"),
        ({"nu": 0}, "nu must be a finite number > 0"),
        ({"nce_lr": float("nan")}, "nce_lr must be a finite number > 0"),
        ({"head_hidden": [8, 0]}, "head_hidden must be a list of layer sizes >= 1"),
        ({"heads": 3}, "unexpected keyword"),
    ],
)
def test_bad_cance_settings_are_refused_naming_the_setting(params, message):
    with pytest.raises(ValueError, match=message):
        make_variant("cance", **params)
    with pytest.raises(ValueError, match="TrainSpec.variant"):
        TrainSpec(variant="cance", variant_params=params)


def test_the_parts_and_batch_norm_buffers_travel_through_safetensors(synthetic_cance_bundle, tmp_path):
    codec.save_model(tmp_path, synthetic_cance_bundle.model)
    doc = json.loads((tmp_path / "model.json").read_text())
    assert doc["autoencoder"]["latent_norm"] == "batch"
    assert doc["variant"] == {"name": "cance", "params": make_variant("cance").params()}
    tensors = load_file(tmp_path / "model.safetensors")
    assert {k for k in tensors if k.endswith(("running_mean", "running_var", "num_batches_tracked"))}
    for name in HEADS:
        for key in ("mu", "chol", "sd", "s"):
            assert f"{PREFIX}heads.{name}.{key}" in tensors
    loaded = codec.load_model(tmp_path)
    before, after = synthetic_cance_bundle.model, loaded
    for k, v in before.ae.state_dict().items():
        assert torch.equal(v, after.ae.state_dict()[k]), k
    X = np.random.default_rng(0).normal(size=(7, before.dim))
    Xs = before.scaler.transform(X)
    z = before.encode_scaled(Xs)[0]
    for k, v in before.extra(Xs, z).items():
        np.testing.assert_array_equal(v, after.extra(Xs, z)[k])


def test_a_singular_feature_covariance_gets_the_smallest_ridge_that_factors_it():
    v = torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64)
    cov = torch.outer(v, v)  # rank 1: a collapsed latent
    head = NCEHead(3, (4,))
    head.fit_noise(torch.zeros(3, dtype=torch.float64), cov)
    rebuilt = (head.chol.double() @ head.chol.double().T) - cov
    off = rebuilt - torch.diag(torch.diagonal(rebuilt))
    assert off.abs().max() < 1e-5  # only the diagonal moved
    assert 0 < float(torch.diagonal(rebuilt).max()) < 1e-3 * float(torch.diagonal(cov).mean())
    assert torch.isfinite(head.log_noise(torch.randn(4, 3))).all()
