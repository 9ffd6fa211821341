"""The VAE backbone's pieces (training variant "vae", pipelines/model/variants.py): the encoder's second head and
the terms of the ELBO.

The autoencoder's encoder stays as it is and its output is the posterior mean mu of q(z|x) = N(mu, diag sigma^2),
so everything that reads a latent (the frozen model's encode, the reference, ARES and NLN, the explanation) reads
the deterministic mean without knowing the model is a VAE, and artifacts of every other variant are unchanged. The
log-variance is a second linear head on the encoder's last hidden layer (on the input when the encoder has no hidden
layer), stored with the variant's parts as ``variant.*`` tensors.

The decoder is a Gaussian with a fixed variance (sigma_x^2 = 1/2), so -log p(x|z) is ||x - decoder(z)||^2 up to a
constant, and the training objective is the beta-VAE's negated ELBO (Higgins et al. 2017; Kingma and Welling 2013):
||x - decoder(mu + sigma * eps)||^2 + beta * KL(q(z|x) || N(0, I)), one reparameterised sample per window.
"""

from __future__ import annotations

import torch
from torch import nn

from pipelines.model.autoencoder import AESpec, Autoencoder

# log sigma^2 is clipped to this range: exp() of an unbounded head overflows on a far-off window, and a variance
# outside e^-12 .. e^8 carries no information on scaled sensor data
LOGVAR_MIN, LOGVAR_MAX = -12.0, 8.0


class LogVarHead(nn.Module):
    """log sigma^2 of q(z|x): a linear layer beside the encoder's last one, fed the same hidden activations."""

    def __init__(self, spec: AESpec) -> None:
        super().__init__()
        self.linear = nn.Linear(spec.hidden[-1] if spec.hidden else spec.input_dim, spec.latent)

    def forward(self, ae: Autoencoder, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, log sigma^2) of the windows x; mu is exactly ``ae.encoder(x)``."""
        h = ae.encoder[:-1](x)
        mu: torch.Tensor = ae.encoder[-1](h)
        logvar = self.linear(h).clamp(LOGVAR_MIN, LOGVAR_MAX)
        return mu, logvar


def kl_to_prior(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag exp(logvar)) || N(0, I)) per row, in closed form."""
    out: torch.Tensor = 0.5 * (mu**2 + logvar.exp() - 1.0 - logvar).sum(dim=1)
    return out


def negative_elbo_rows(ae: Autoencoder, head: LogVarHead, x: torch.Tensor, beta: float, sample: bool) -> torch.Tensor:
    """Per row: ||x - decoder(z)||^2 + beta * KL, z one reparameterised draw (``sample``) or the mean mu."""
    mu, logvar = head(ae, x)
    z = mu + (0.5 * logvar).exp() * torch.randn_like(mu) if sample else mu
    out: torch.Tensor = ((ae.decoder(z) - x) ** 2).sum(dim=1) + beta * kl_to_prior(mu, logvar)
    return out
