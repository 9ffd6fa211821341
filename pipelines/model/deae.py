"""The denoising autoencoder with a compactness loss and a latent-to-error MLP (DeAE + MLP poster): a training
variant (pipelines/model/variants.py) whose extra part is the MLP z -> predicted reconstruction error.

J = J_DeAE + lambda3 * J_MLP, with, per batch of n windows x (scaled) and latent codes z = encoder(x + noise):

- J_DeAE = MSE(x, decoder(z)) + lambda1 * sum_W ||W||^2 + lambda2 * L_C. The poster's reconstruction term is the
  L2 norm; the plain autoencoder's MSE keeps the gradients on the autoencoder with ``noise=0, lambda1=lambda2=0``
  equal to "ae"'s (J_MLP moves the MLP only, below). The input noise
  (Gaussian, std ``noise`` in scaled units) is added in training only; validation and scoring see clean windows.
  The weight decay is an explicit term over the autoencoder's weight matrices (the poster's theta_i, its fully
  connected layers), not Adam's, so it spares the MLP and the biases.
- L_C = 1/(nk) sum_i ||z_i - m||^2 with m the batch mean of z (the compactness loss: the latent's intra-batch
  variance, kept low for the normal class).
- J_MLP = 1/n sum_i |e_i - e'_i|: e_i the squared reconstruction error of the clean window (the error the scorer
  reads, ``Encoded.err``) and e'_i = MLP(z_i) of its clean latent. Both are detached: J_MLP trains theta_m only (the
  poster's J_MLP(theta_m)), so the autoencoder cannot make its errors easy to predict.

The score (pipelines/scorers/deae_mlp.py) is |e - e'|: a window whose error is not the one normal windows with
that latent code have.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from pipelines.model.autoencoder import AESpec, Autoencoder, mlp
from pipelines.model.variants import REGISTRY, Variant, layer_sizes


class ErrorMLP(nn.Module):
    """The prediction network: a latent code [B, k] -> its window's predicted squared reconstruction error [B]."""

    def __init__(self, latent: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.net = mlp([latent, *hidden, 1], nn.LeakyReLU)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(z).squeeze(-1)
        return out


def _number(what: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v) or v < 0:
        raise ValueError(f"deae: {what} must be a finite number >= 0, got {v!r}")
    return float(v)


class DeAE(Variant):
    """The DeAE + MLP training variant; defaults: noise std 0.1, lambda1 (weight decay) 1e-4, lambda2 (compactness)
    0.1, lambda3 (MLP) 1, MLP hidden layers (32,). The poster gives no values; these were set on the synthetic set."""

    name = "deae"
    has_outputs = True

    def __init__(
        self,
        noise: float = 0.1,
        lambda1: float = 1e-4,
        lambda2: float = 0.1,
        lambda3: float = 1.0,
        mlp_hidden: Sequence[int] = (32,),
    ) -> None:
        self.noise = _number("noise", noise)
        self.lambda1, self.lambda2, self.lambda3 = (
            _number("lambda1", lambda1),
            _number("lambda2", lambda2),
            _number("lambda3", lambda3),
        )
        if self.lambda3 == 0:
            raise ValueError("deae: lambda3 must be > 0 (the error MLP is trained through it alone)")
        self.mlp_hidden = layer_sizes("deae", "mlp_hidden", mlp_hidden)

    def params(self) -> dict[str, Any]:
        return {
            "noise": self.noise,
            "lambda1": self.lambda1,
            "lambda2": self.lambda2,
            "lambda3": self.lambda3,
            "mlp_hidden": list(self.mlp_hidden),
        }

    def parts(self, spec: AESpec) -> nn.Module:
        return ErrorMLP(spec.latent, self.mlp_hidden)

    def _terms(
        self, ae: Autoencoder, parts: nn.Module | None, xb: torch.Tensor, noisy: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(per-row loss without the weight decay, the weight decay)."""
        if not isinstance(parts, ErrorMLP):
            raise ValueError("deae: the model has no error MLP (its parts were not built by this variant)")
        x_in = xb + self.noise * torch.randn_like(xb) if noisy and self.noise > 0 else xb
        z = ae.encoder(x_in)
        xhat = ae.decoder(z)
        rows = ((xhat - xb) ** 2).mean(dim=1) + self.lambda2 * ((z - z.mean(dim=0)) ** 2).mean(dim=1)
        with torch.no_grad():
            zc = z.detach() if x_in is xb else ae.encoder(xb)
            err = (((xhat if x_in is xb else ae.decoder(zc)) - xb) ** 2).sum(dim=1)
        rows = rows + self.lambda3 * (parts(zc) - err).abs()
        decay = sum(((p**2).sum() for p in ae.parameters() if p.ndim >= 2), torch.zeros((), device=xb.device))
        return rows, self.lambda1 * decay

    def loss(self, ae: Autoencoder, parts: nn.Module | None, xb: torch.Tensor) -> torch.Tensor:
        rows, decay = self._terms(ae, parts, xb, noisy=True)
        return rows.mean() + decay

    def val_sum(self, ae: Autoencoder, parts: nn.Module | None, xb: torch.Tensor) -> float:
        rows, decay = self._terms(ae, parts, xb, noisy=False)
        return float((rows.sum() + decay * len(xb)).detach())

    def outputs(
        self, ae: Autoencoder, parts: nn.Module | None, xs: torch.Tensor, z: torch.Tensor, xhat: torch.Tensor
    ) -> dict[str, Any]:
        """err_pred: the MLP's predicted squared reconstruction error of each window from its latent code."""
        if parts is None:
            raise ValueError("deae: the model has no error MLP")
        return {"err_pred": parts(z).numpy().astype(np.float64)}

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        yield {}
        yield {"noise": 0.3, "lambda1": 1e-3, "lambda2": 0.5, "lambda3": 0.5, "mlp_hidden": [8, 4]}


REGISTRY["deae"] = (DeAE, {})
