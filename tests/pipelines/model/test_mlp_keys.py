"""The layer builder shared by the autoencoder, the deae error MLP and CANCE's estimation networks
(pipelines/model/autoencoder.py ``mlp``): its Sequential's indices are the safetensors key names of every artifact,
so artifacts saved by an earlier version load only while they stay exactly these."""

from __future__ import annotations

from torch import nn

from pipelines.model.autoencoder import AESpec, Autoencoder, mlp
from pipelines.model.cance import CANCEParts
from pipelines.model.deae import ErrorMLP


def _linear_keys(*indices: int, prefix: str = "") -> list[str]:
    return [f"{prefix}{i}.{w}" for i in indices for w in ("weight", "bias")]


def test_the_autoencoders_keys_with_and_without_dropout():
    plain = Autoencoder(AESpec(input_dim=5, hidden=(4, 3), latent=2))
    assert list(plain.state_dict()) == _linear_keys(0, 2, 4, prefix="encoder.") + _linear_keys(
        0, 2, 4, prefix="decoder."
    )
    dropped = Autoencoder(AESpec(input_dim=5, hidden=(4, 3), latent=2, activation="tanh", dropout=0.1))
    assert list(dropped.state_dict()) == _linear_keys(0, 3, 6, prefix="encoder.") + _linear_keys(
        0, 3, 6, prefix="decoder."
    )
    assert isinstance(dropped.encoder[1], nn.Tanh) and isinstance(dropped.encoder[2], nn.Dropout)


def test_the_error_mlp_and_the_estimation_networks_keep_their_key_names():
    assert list(ErrorMLP(3, (8, 4)).state_dict()) == _linear_keys(0, 2, 4, prefix="net.")
    keys = list(CANCEParts(3, (8,)).state_dict())
    for head in ("latnce", "cnce", "cance"):
        own = [k.removeprefix(f"heads.{head}.") for k in keys if k.startswith(f"heads.{head}.")]
        assert own == ["s", "mu", "chol", "sd", *_linear_keys(0, 2, prefix="net.")]
    assert keys[:2] == ["rec_mode", "rec_sd"]


def test_the_builder_puts_the_activation_between_layers_only():
    net = mlp([4, 3, 1], nn.LeakyReLU)
    assert [type(m) for m in net] == [nn.Linear, nn.LeakyReLU, nn.Linear]
    assert (net[0].in_features, net[2].out_features) == (4, 1)
