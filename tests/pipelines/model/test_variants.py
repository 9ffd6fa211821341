"""Training variants (pipelines/model/variants.py): the registry's checks, the LFR loss, and a variant's parts through
the artifact (extra safetensors tensors, rebuilt from model.json)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from pipelines.artifact import codec
from pipelines.artifact.store import ArtifactError
from pipelines.fit import TrainSpec
from pipelines.model.autoencoder import AESpec, Autoencoder
from pipelines.model.variants import PREFIX, LFRLayer, make_variant


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("vae2", {}, "unknown training variant 'vae2'"),
        ("lfr", {"k": 0}, "k .* >= 1"),
        ("lfr", {"k": 1.5}, "k .* integer"),
        ("lfr", {"lambda1": -1.0}, "lambda1 must be a finite number >= 0"),
        ("lfr", {"lambda2": float("nan")}, "lambda2 must be a finite number"),
        ("lfr", {"loss": "C"}, "loss must be 'A'"),
        ("lfr", {"rank": 2}, "unexpected keyword"),
    ],
)
def test_bad_variant_settings_are_refused_naming_the_setting(name, params, message):
    with pytest.raises(ValueError, match=message):
        make_variant(name, **params)
    with pytest.raises(ValueError, match="TrainSpec.variant"):
        TrainSpec(variant=name, variant_params=params)


def test_k_above_the_latent_size_is_refused_by_the_spec():
    with pytest.raises(ValueError, match="k=9 rows of A exceed the latent size 8"):
        TrainSpec(variant="lfr", variant_params={"k": 9})


def test_specs_and_artifacts_from_before_the_field_are_plain_autoencoders():
    spec = TrainSpec.from_dict({"latent": 4})
    assert spec.variant == "ae" and spec.variant_params == {}


def test_lfr_loss_is_reconstruction_plus_the_rsr_terms_of_eq_2():
    torch.manual_seed(0)
    ae = Autoencoder(AESpec(input_dim=5, hidden=(4,), latent=3))
    variant = make_variant("lfr", k=2, lambda1=0.7, lambda2=0.3)
    parts = variant.parts(ae.spec)
    with torch.no_grad():
        parts.A.copy_(torch.tensor([[1.0, 0.5, 0.0], [0.0, 1.0, 2.0]]))
    xb = torch.randn(6, 5)
    z = ae.encoder(xb)
    A = parts.A
    zp = z @ A.T @ A
    rsr = 0.7 * torch.linalg.vector_norm(z - zp, dim=1).mean() + 0.3 * ((A @ A.T - torch.eye(2)) ** 2).sum()
    expected_a = ((ae.decoder(z) - xb) ** 2).mean() + rsr
    torch.testing.assert_close(variant.loss(ae, parts, xb), expected_a)
    expected_b = ((ae.decoder(zp) - xb) ** 2).mean() + rsr
    torch.testing.assert_close(make_variant("lfr-b", k=2, lambda1=0.7, lambda2=0.3).loss(ae, parts, xb), expected_b)
    assert abs(variant.val_sum(ae, parts, xb) / 6 - float(expected_a.detach())) < 1e-5


def test_the_plain_variant_is_the_autoencoders_mse():
    torch.manual_seed(1)
    ae = Autoencoder(AESpec(input_dim=5, hidden=(4,), latent=3))
    xb = torch.randn(7, 5)
    variant = make_variant("ae")
    assert variant.parts(ae.spec) is None
    assert torch.equal(variant.loss(ae, None, xb), ((ae(xb) - xb) ** 2).mean())


def test_trained_a_is_close_to_orthonormal_rows(synthetic_lfr_bundle):
    A = synthetic_lfr_bundle.model.parts.A.numpy()
    assert A.shape == (1, 3)  # k None: half the latent size 3, at least 1
    np.testing.assert_allclose(A @ A.T, np.eye(1), atol=0.05)


def test_lfr_parts_travel_as_extra_tensors_and_come_back(synthetic_lfr_bundle, synthetic_split, tmp_path):
    model = synthetic_lfr_bundle.model
    codec.save_model(tmp_path, model)
    doc = json.loads((tmp_path / "model.json").read_text())
    assert doc["variant"] == {"name": "lfr", "params": {"k": None, "lambda1": 0.1, "lambda2": 0.1, "loss": "A"}}
    assert PREFIX + "A" in load_file(str(tmp_path / "model.safetensors"))
    loaded = codec.load_model(tmp_path)
    assert isinstance(loaded.parts, LFRLayer) and loaded.variant.name == "lfr"
    Xs = loaded.scaler.transform(synthetic_split[2])
    z = loaded.encode_scaled(Xs)[0]
    np.testing.assert_array_equal(loaded.extra(Xs, z)["err_b"], model.extra(Xs, z)["err_b"])


def test_a_plain_model_writes_no_variant_and_refuses_stray_tensors(synthetic_bundle, tmp_path):
    codec.save_model(tmp_path, synthetic_bundle.model)
    assert "variant" not in json.loads((tmp_path / "model.json").read_text())
    assert codec.load_model(tmp_path).parts is None
    tensors = load_file(str(tmp_path / "model.safetensors"))
    save_file({**tensors, PREFIX + "A": torch.zeros(1, 3)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(ArtifactError, match="variant 'ae' has no parts"):
        codec.load_model(tmp_path)


def test_an_lfr_record_without_its_tensors_is_a_clear_error(synthetic_lfr_bundle, tmp_path):
    codec.save_model(tmp_path, synthetic_lfr_bundle.model)
    tensors = load_file(str(tmp_path / "model.safetensors"))
    save_file({k: v for k, v in tensors.items() if not k.startswith(PREFIX)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(ArtifactError, match=r"(?s)cannot be loaded.*Missing key.*\"A\""):
        codec.load_model(tmp_path)
