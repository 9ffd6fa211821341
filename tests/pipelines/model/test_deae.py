"""The deae training variant (pipelines/model/deae.py): its joint cost J = J_DeAE + lambda3 J_MLP term by term,
the noise in training only, the MLP trained by J_MLP alone, its settings' checks and its MLP through the artifact."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from pipelines.artifact import codec
from pipelines.fit import TrainSpec
from pipelines.model.autoencoder import AESpec, Autoencoder
from pipelines.model.deae import ErrorMLP
from pipelines.model.variants import PREFIX, make_variant


def _model(seed: int = 0) -> tuple[Autoencoder, torch.Tensor]:
    torch.manual_seed(seed)
    return Autoencoder(AESpec(input_dim=5, hidden=(4,), latent=3)), torch.randn(6, 5)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"noise": -0.1}, "noise must be a finite number >= 0"),
        ({"lambda1": float("inf")}, "lambda1 must be a finite number"),
        ({"lambda2": True}, "lambda2 must be a finite number"),
        ({"lambda3": 0}, "lambda3 must be > 0"),
        ({"mlp_hidden": [8, 0]}, "mlp_hidden must be a list of layer sizes >= 1"),
        ({"mlp_hidden": "32"}, "mlp_hidden must be a list"),
        ({"sigma": 0.1}, "unexpected keyword"),
    ],
)
def test_bad_deae_settings_are_refused_naming_the_setting(params, message):
    with pytest.raises(ValueError, match=message):
        make_variant("deae", **params)
    with pytest.raises(ValueError, match="TrainSpec.variant"):
        TrainSpec(variant="deae", variant_params=params)


def test_the_clean_cost_is_mse_plus_weight_decay_compactness_and_the_mlps_error():
    ae, xb = _model()
    variant = make_variant("deae", noise=0.0, lambda1=0.01, lambda2=0.5, lambda3=2.0, mlp_hidden=[4])
    mlp = variant.parts(ae.spec)
    z = ae.encoder(xb)
    xhat = ae.decoder(z)
    compact = ((z - z.mean(dim=0)) ** 2).sum() / (6 * 3)
    decay = sum((m.weight**2).sum() for m in ae.modules() if isinstance(m, torch.nn.Linear))
    err = ((xhat - xb) ** 2).sum(dim=1)
    j_mlp = (err - mlp(z)).abs().mean()
    expected = ((xhat - xb) ** 2).mean() + 0.01 * decay + 0.5 * compact + 2.0 * j_mlp
    torch.testing.assert_close(variant.loss(ae, mlp, xb), expected)
    assert abs(variant.val_sum(ae, mlp, xb) / 6 - float(expected.detach())) < 1e-5


def test_noise_enters_the_training_loss_only():
    ae, xb = _model(1)
    only_recon = {"lambda1": 0.0, "lambda2": 0.0, "lambda3": 1e-9}
    variant = make_variant("deae", noise=5.0, **only_recon)
    mlp = variant.parts(ae.spec)
    clean = make_variant("deae", noise=0.0, **only_recon)
    assert variant.val_sum(ae, mlp, xb) == clean.val_sum(ae, mlp, xb)
    torch.manual_seed(3)
    noisy = float(variant.loss(ae, mlp, xb).detach())
    torch.manual_seed(3)
    expected = ((ae(xb + 5.0 * torch.randn_like(xb)) - xb) ** 2).mean()
    assert noisy == pytest.approx(float(expected.detach()), rel=1e-6)
    assert noisy != pytest.approx(float(clean.loss(ae, mlp, xb).detach()), rel=1e-4)


def test_the_mlps_error_trains_the_mlp_and_not_the_autoencoder():
    ae, xb = _model(2)
    variant = make_variant("deae", noise=0.0, lambda1=0.0, lambda2=0.0, lambda3=1.0)
    mlp = variant.parts(ae.spec)
    variant.loss(ae, mlp, xb).backward()
    with_mlp = [p.grad.clone() for p in ae.parameters()]
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in mlp.parameters())
    ae.zero_grad()
    ((ae(xb) - xb) ** 2).mean().backward()  # J_DeAE alone (no noise, no decay, no compactness)
    for a, b in zip(with_mlp, (p.grad for p in ae.parameters()), strict=True):
        torch.testing.assert_close(a, b)


def test_the_mlp_learns_the_error_of_normal_windows(synthetic_deae_bundle, synthetic_split):
    model = synthetic_deae_bundle.model
    Xs = model.scaler.transform(synthetic_split[1])
    z, _, err = model.encode_scaled(Xs)
    pred = model.extra(Xs, z)["err_pred"]
    assert np.mean(np.abs(err - pred)) < np.mean(np.abs(err - np.median(err)))  # the best constant under L1


def test_the_mlp_travels_as_variant_tensors_and_comes_back(synthetic_deae_bundle, synthetic_split, tmp_path):
    model = synthetic_deae_bundle.model
    codec.save_model(tmp_path, model)
    doc = json.loads((tmp_path / "model.json").read_text())
    assert doc["variant"] == {
        "name": "deae",
        "params": {"noise": 0.1, "lambda1": 1e-4, "lambda2": 0.1, "lambda3": 1.0, "mlp_hidden": [32]},
    }
    assert {PREFIX + "net.0.weight", PREFIX + "net.2.bias"} <= set(load_file(str(tmp_path / "model.safetensors")))
    loaded = codec.load_model(tmp_path)
    assert isinstance(loaded.parts, ErrorMLP) and loaded.variant.name == "deae"
    Xs = loaded.scaler.transform(synthetic_split[2])
    z = loaded.encode_scaled(Xs)[0]
    np.testing.assert_array_equal(loaded.extra(Xs, z)["err_pred"], model.extra(Xs, z)["err_pred"])
