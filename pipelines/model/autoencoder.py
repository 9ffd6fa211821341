"""MLP autoencoder for feature vectors; its shape is data (a spec), so an artifact can rebuild it without code."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn


@dataclass(frozen=True)
class AESpec:
    input_dim: int
    hidden: tuple[int, ...] = (64, 32)
    latent: int = 8
    activation: str = "leaky_relu"
    dropout: float = 0.0
    # "batch": BatchNorm1d (no affine) after the encoder's last Linear, so z is zero-mean unit-variance over the
    # training windows (CANCE's latent); eval mode reads its running statistics. Specs from before the field: "none"
    latent_norm: str = "none"

    def __post_init__(self) -> None:
        if self.input_dim < 1 or self.latent < 1 or any(h < 1 for h in self.hidden):
            raise ValueError(f"autoencoder sizes must be >= 1: {self}")
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; choose from {sorted(_ACTIVATIONS)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.latent_norm not in LATENT_NORMS:
            raise ValueError(f"latent_norm must be one of {LATENT_NORMS}, got {self.latent_norm!r}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AESpec:
        return cls(**{**d, "hidden": tuple(d.get("hidden", ()))})


LATENT_NORMS = ("none", "batch")
_ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh, "elu": nn.ELU}


def mlp(sizes: Sequence[int], activation: Callable[[], nn.Module], dropout: float = 0.0) -> nn.Sequential:
    """Linear layers through ``sizes``, each but the last followed by the activation (and dropout when > 0). The
    Sequential's indices are the safetensors key names of every artifact (``encoder.0.weight``,
    ``variant.net.2.bias``), so the layer order must not change."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(activation())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def _mlp(sizes: list[int], spec: AESpec) -> nn.Sequential:
    return mlp(sizes, _ACTIVATIONS[spec.activation], spec.dropout)


class Autoencoder(nn.Module):
    def __init__(self, spec: AESpec) -> None:
        super().__init__()
        self.spec = spec
        sizes = [spec.input_dim, *spec.hidden, spec.latent]
        self.encoder = _mlp(sizes, spec)
        if spec.latent_norm == "batch":
            self.encoder.append(nn.BatchNorm1d(spec.latent, affine=False))
        self.decoder = _mlp(sizes[::-1], spec)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.decoder(self.encoder(x))
        return out
