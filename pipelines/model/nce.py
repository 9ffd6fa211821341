"""CANCE's estimation network (CANCE paper, sections 3.3-3.4 and appendices B-C): a log-odds network G trained by
noise-contrastive estimation against a Gaussian noise distribution fitted to the training features, whose diagonal
scale is optimised adversarially; the score of a feature vector c is the estimated negative log density
-(G(c) + log p_n(c)).

- Noise: N(mu, A Sigma A) with mu, Sigma the training features' mean and covariance accumulated over batches
  (appendix B: sums of c and of c c^T, so no pass holds every feature at once) and A = diag(1 + softplus(s)) >= 1
  (the paper's softplus constraint: the noise's variance can only grow). A draw is mu + A L eps with L the Cholesky
  factor of Sigma, so log p_n(c) = -||L^-1 A^-1 (c - mu)||^2 / 2 - log|L| - log|A| - m/2 log(2 pi).
- The NCE loss (eq. 6/9) with noise ratio nu, per batch of n features and nu*n noise draws y:
  mean_i softplus(-(G(c_i) - log nu)) + nu * mean_j softplus(G(y_j) - log nu), so that G's optimum is
  log p_d - log p_n. The scale's loss (eq. 7/10) is the same loss with its data term under stop-gradient, maximised
  over s; the two are stepped in turn, each batch, with AdamW (no weight decay on s: it would pull A to a fixed
  value rather than let the adversary set it).
- The augmentation (eq. 8, the "cance" head only): each normal feature vector, with probability 1/2, has its two
  reconstruction features replaced by draws from normals centred at the mode of the log-normal fitted to that
  feature by its training mean and variance (sigma^2 = ln(1 + var/mean^2), mu = ln mean - sigma^2/2,
  mode = exp(mu - sigma^2)), truncated to [0, mode]. Their standard deviation (lost in the paper's extraction) is
  the noise distribution's own for that feature, sqrt(Sigma_jj): the choice under which Proposition 1 holds (a
  truncated normal on [0, mode] centred at the mode has at least twice the density of a normal with the same
  standard deviation centred at the mean, which is above the mode, so the 50:50 mixture is above the noise there).

Everything scoring reads (mu, L, s, the features' standard deviations, G's weights) is a tensor of the module, so it
is stored through safetensors with the rest of the model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from pipelines.model.autoencoder import mlp

S_INIT = -6.0  # softplus(-6) = 0.0025: the noise starts at the fitted Gaussian's own scale


class NCEHead(nn.Module):
    """One estimation network over m-dimensional features, with its noise distribution."""

    mu: torch.Tensor
    chol: torch.Tensor
    sd: torch.Tensor

    def __init__(self, m: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.m = m
        self.register_buffer("mu", torch.zeros(m))
        self.register_buffer("chol", torch.eye(m))
        self.register_buffer("sd", torch.ones(m))
        self.s = nn.Parameter(torch.full((m,), S_INIT))
        self.net = mlp([m, *hidden, 1], nn.LeakyReLU)

    def fit_noise(self, mean: torch.Tensor, cov: torch.Tensor) -> None:
        """Set the noise Gaussian from the features' mean and covariance (float64 in; a ridge is added only when the
        covariance is not positive definite, and grown until it is)."""
        m = len(mean)
        eye = torch.eye(m, dtype=cov.dtype, device=cov.device)
        scale = float(torch.diagonal(cov).mean().clamp_min(1e-12))
        chol, info = torch.linalg.cholesky_ex(cov)
        ridge = 1e-9
        while int(info) != 0:
            chol, info = torch.linalg.cholesky_ex(cov + ridge * scale * eye)
            ridge *= 10
            if ridge > 1.0:
                raise ValueError("cance: the features' covariance is singular even with a ridge (a collapsed latent?)")
        self.mu.copy_(mean.float())
        self.chol.copy_(chol.float())
        self.sd.copy_(torch.sqrt(torch.diagonal(cov)).clamp_min(1e-6).float())

    def scale(self) -> torch.Tensor:
        out: torch.Tensor = 1.0 + F.softplus(self.s)
        return out

    def logodds(self, c: torch.Tensor) -> torch.Tensor:
        """G(c), on the features standardised by the training ones' mean and standard deviation."""
        out: torch.Tensor = self.net((c - self.mu) / self.sd).squeeze(-1)
        return out

    def log_noise(self, c: torch.Tensor) -> torch.Tensor:
        """log p_n(c) under the scaled noise N(mu, A Sigma A), in float64."""
        a = self.scale().double()
        u = ((c.double() - self.mu.double()) / a).T
        w = torch.linalg.solve_triangular(self.chol.double(), u, upper=False).T
        logdet = torch.log(torch.diagonal(self.chol.double())).sum() + torch.log(a).sum()
        out: torch.Tensor = -0.5 * (w**2).sum(dim=1) - logdet - 0.5 * self.m * math.log(2 * math.pi)
        return out

    def sample(self, eps: torch.Tensor) -> torch.Tensor:
        """Noise draws mu + A L eps for standard normal ``eps`` [n, m] (differentiable in s)."""
        out: torch.Tensor = self.mu + self.scale() * (eps @ self.chol.T)
        return out


def nce_terms(head: NCEHead, data: torch.Tensor, noise: torch.Tensor, nu: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(data term, noise term) of the NCE loss (eq. 9): their sum is the estimation network's loss."""
    return F.softplus(-(head.logodds(data) - math.log(nu))).mean(), noise_term_of(head, noise, nu)


def noise_term_of(head: NCEHead, noise: torch.Tensor, nu: float) -> torch.Tensor:
    """nu * mean_j -log(1 - sigmoid(G(y_j) - log nu)): the NCE loss's noise term."""
    out: torch.Tensor = nu * F.softplus(head.logodds(noise) - math.log(nu)).mean()
    return out


def batched_moments(chunks: Iterable[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (n - 1)-normalised covariance of the rows of every chunk (appendix B), accumulated in float64."""
    n, total, outer = 0, None, None
    for c in chunks:
        c = c.double()
        total = c.sum(dim=0) if total is None else total + c.sum(dim=0)
        outer = c.T @ c if outer is None else outer + c.T @ c
        n += len(c)
    if total is None or outer is None or n < 2:
        raise ValueError("cance: at least two training windows are needed for the noise distribution")
    mean = total / n
    return mean, (outer - n * torch.outer(mean, mean)) / (n - 1)


def lognormal_mode(mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """The mode of the log-normal with this mean and variance (appendix C): exp(mu - sigma^2), where
    sigma^2 = ln(1 + var / mean^2) and mu = ln(mean) - sigma^2 / 2."""
    mean = mean.clamp_min(1e-12)
    sigma2 = torch.log1p(var / mean**2)
    return torch.exp(torch.log(mean) - 1.5 * sigma2)


def truncated_normal(mode: torch.Tensor, sd: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Draws from N(mode, sd^2) truncated to [0, mode] by the inverse CDF of uniforms ``u`` [n, j] in [0, 1)."""
    lo = torch.special.ndtr(-mode / sd)
    p = (lo + u * (0.5 - lo)).clamp(1e-12, 0.5)
    out = mode + sd * torch.special.ndtri(p)
    return torch.minimum(out.clamp_min(0.0), mode)


def augment(c: torch.Tensor, mode: torch.Tensor, sd: torch.Tensor, pick: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Eq. 8: the rows where ``pick`` is true get their last len(mode) features (the reconstruction features) from
    the truncated normals; the latent part of every row is kept."""
    j = len(mode)
    low = truncated_normal(mode, sd, u)
    rec = torch.where(pick[:, None], low, c[:, -j:])
    return torch.cat([c[:, :-j], rec], dim=1)
