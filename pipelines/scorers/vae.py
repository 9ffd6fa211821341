"""The VAE backbone's own scores (training variant "vae", pipelines/model/vae.py), both Monte-Carlo estimates over
draws z_l = mu + sigma * eps_l from q(z|x):

  "vae-recon-prob"  mean_l ||x - decoder(z_l)||^2: the negative log reconstruction probability (An and Cho 2015)
                    under the decoder's fixed-variance Gaussian, up to its scale and constant
  "vae-elbo"        the same + beta * KL(q(z|x) || N(0, I)): the negated ELBO (the CANCE paper's VAE baseline)

The L noise vectors eps_l are drawn once from a seeded generator when the scorer is made and shared by every window,
so a window's score depends on the window alone (not on its batch or on the order of batches) and an artifact's
scorer (samples, seed) rebuilds them bit for bit. mu is the latent the frozen model already computed (``Encoded.z``);
sigma comes from the variant's outputs (``Encoded.extra["vae_logvar"]``). An and Cho's decoder also outputs a
variance per feature; ours keeps it fixed (one output per sensor value, as the plain autoencoder), which makes the
reconstruction probability a mean squared error over the posterior's draws.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from pipelines.scorers.base import Encoded, Scorer, ScoreResult


class VAEScore(Scorer):
    name = "vae-elbo"
    variants = ("vae",)

    def __init__(self, score: str = "elbo", samples: int = 16, seed: int = 0, beta: float = 1.0) -> None:
        if score not in ("elbo", "recon-prob"):
            raise ValueError(f"vae: score must be 'elbo' or 'recon-prob', got {score!r}")
        if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
            raise ValueError(f"vae: samples (Monte-Carlo draws per window) must be an integer >= 1, got {samples!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"vae: seed must be an integer >= 0, got {seed!r}")
        if isinstance(beta, bool) or not isinstance(beta, int | float) or not np.isfinite(beta) or beta < 0:
            raise ValueError(f"vae: beta (the KL term's weight) must be a finite number >= 0, got {beta!r}")
        self.which, self.samples, self.seed, self.beta = score, samples, seed, float(beta)
        self._eps: np.ndarray | None = None

    def _noise(self, latent: int) -> np.ndarray:
        if self._eps is None or self._eps.shape[1] != latent:
            rng = np.random.default_rng(self.seed)
            self._eps = rng.standard_normal((self.samples, latent)).astype(np.float32)
        return self._eps

    def score(self, enc: Encoded, reference: Any, decode: Any) -> ScoreResult:
        if "vae_logvar" not in enc.extra:
            raise ValueError(
                f"scorer {self.name!r} needs a model trained with the vae variant: this batch's model has no "
                "log-variance head"
            )
        mu = np.asarray(enc.z, dtype=np.float32)
        logvar = np.asarray(enc.extra["vae_logvar"], dtype=np.float32)
        B, latent = mu.shape
        draws = mu[:, None, :] + np.exp(0.5 * logvar)[:, None, :] * self._noise(latent)[None]
        decoded = decode(draws.reshape(B * self.samples, latent)).reshape(B, self.samples, -1)
        recon = ((enc.x[:, None, :] - decoded) ** 2).sum(axis=2, dtype=np.float64).mean(axis=1)
        kl = 0.5 * (mu.astype(np.float64) ** 2 + np.exp(logvar, dtype=np.float64) - 1.0 - logvar).sum(axis=1)
        score = recon + self.beta * kl if self.which == "elbo" else recon
        return ScoreResult(score=score, components={"recon_error": enc.err, "recon_mc": recon, "kl": kl})

    def params(self) -> dict[str, Any]:
        return {"score": self.which, "samples": self.samples, "seed": self.seed, "beta": self.beta}

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        yield {}
        yield {"score": "recon-prob", "samples": 3, "seed": 5, "beta": 0.5}
