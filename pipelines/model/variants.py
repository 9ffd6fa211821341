"""Training variants: what a model learns beside (or instead of) the plain autoencoder's reconstruction.

The extension point for every backbone change (AE-LFR here; VAE, the denoising AE + MLP and CANCE later). A variant
is named by ``TrainSpec.variant`` with its hyperparameters in ``TrainSpec.variant_params``, and is data all the way:

- ``parts(ae_spec)``: the extra trainable modules (LFR: the matrix A), trained jointly with the autoencoder. The
  artifact stores their tensors in model.safetensors under the prefix ``variant.`` and records
  ``{"name", "params"}`` in model.json, so loading rebuilds them from the spec and fills them, running no code.
- ``loss(ae, parts, xb)``: the one training hook (pipelines/model/training.py): the batch's loss, the
  reconstruction's plus the variant's own terms. Early stopping reads the same loss on the validation windows.
- ``outputs(ae, parts, xs, z, xhat)``: the per-window values the variant's scorers read (``Encoded.extra``),
  computed once per batch by the frozen model from the batch's scaled input, latent and reconstruction (which it has
  already computed, so a variant need not decode again); the plain autoencoder adds none, so it pays nothing.
- ``ae_spec(spec)``: the autoencoder the variant trains, given the one the training spec asks for (CANCE: the same
  with a batch-normalised latent). The artifact's model.json records the result, so loading needs no variant code.
- ``after_fit(ae, parts, fit)``: the stages after the first, run by ``train_autoencoder`` on the best stage-1 model
  with a ``StageInputs`` (the scaled training and validation windows as tensors on the training device, the
  training parameters, the seeded generator, whether to show progress); it changes ``ae`` and ``parts`` in place.
  CANCE trains its decoder with the encoder frozen and then its estimation networks, each stage through
  ``pipelines.model.stage.fit_stage`` (early stopping, best state kept). The others have no further stage.

A new variant subclasses ``Variant`` and adds a line to ``REGISTRY`` (a variant in its own module adds itself and is
imported at the bottom of this one); artifacts without a variant load as "ae".
A scorer that needs a variant's outputs names the variants it can score in ``Scorer.variants``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from pipelines.model.autoencoder import AESpec, Autoencoder
from pipelines.model.vae import LogVarHead, negative_elbo_rows

if TYPE_CHECKING:
    from pipelines.model.training import TrainParams


@dataclass(frozen=True)
class StageInputs:
    """What ``Variant.after_fit`` trains its stages on, besides the model itself."""

    X_train: torch.Tensor  # the scaled training windows, on the training device
    X_val: torch.Tensor  # the scaled validation windows (early stopping)
    params: TrainParams
    gen: torch.Generator  # the training's seeded generator, drawn from in turn by every stage
    progress: bool


class Variant:
    """The plain autoencoder ("ae"): MSE reconstruction, no extra parts, no extra outputs."""

    name = "ae"
    has_outputs = False  # whether ``outputs`` gives anything (the frozen model skips the call when not)

    def params(self) -> dict[str, Any]:
        return {}

    def check(self, latent: int) -> None:
        """A clear error when the variant cannot be built on a latent of this size."""

    def ae_spec(self, spec: AESpec) -> AESpec:
        return spec

    def parts(self, spec: AESpec) -> nn.Module | None:
        return None

    def loss(self, ae: Autoencoder, parts: nn.Module | None, xb: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = ((ae(xb) - xb) ** 2).mean()
        return out

    def after_fit(self, ae: Autoencoder, parts: nn.Module | None, fit: StageInputs) -> None:
        """The training stages after the first (none here); see the module docstring."""

    def val_sum(self, ae: Autoencoder, parts: nn.Module | None, xb: torch.Tensor) -> float:
        """The loss summed over the rows of ``xb`` (their mean is the validation loss)."""
        return float(((ae(xb) - xb) ** 2).mean(dim=1).sum())

    def outputs(
        self, ae: Autoencoder, parts: nn.Module | None, xs: torch.Tensor, z: torch.Tensor, xhat: torch.Tensor
    ) -> dict[str, Any]:
        return {}

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        yield {}


def layer_sizes(variant: str, what: str, v: Any) -> tuple[int, ...]:
    """A variant's hidden layer sizes (deae's mlp_hidden, cance's head_hidden): a list of integers >= 1, else a
    clear error naming the variant and the setting."""
    if (
        isinstance(v, str | bytes)
        or not isinstance(v, Sequence)
        or not all(isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in v)
    ):
        raise ValueError(f"{variant}: {what} must be a list of layer sizes >= 1, got {v!r}")
    return tuple(v)


class LFRLayer(nn.Module):
    """The LFR layer (LFR paper, section 3.2): A in R^{k x d}; a latent z is reconstructed as A^T A z."""

    def __init__(self, k: int, latent: int) -> None:
        super().__init__()
        self.A = nn.Parameter(torch.empty(k, latent))
        nn.init.orthogonal_(self.A)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = (z @ self.A.T) @ self.A
        return out


class LFR(Variant):
    """AE-LFR (LFR paper, sections 3.2-3.3): the autoencoder trained with the RSR loss on its latent (eq. 2, 6).

    loss = MSE(x, decoder(u)) + lambda1 * mean_i ||z_i - A^T A z_i||_2 + lambda2 * ||A A^T - I_k||_F^2, where u is z
    (``loss="A"``, the paper's L_A, AE-LFR proper) or A^T A z (``loss="B"``, L_B). The paper sums over the N
    training windows; a batch mean keeps lambda1 independent of the batch size, and the reconstruction term is the
    plain autoencoder's MSE so that L_A differs from "ae" by the RSR term only. k None: half the latent size.
    """

    name = "lfr"
    has_outputs = True

    def __init__(self, k: int | None = None, lambda1: float = 0.1, lambda2: float = 0.1, loss: str = "A") -> None:
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise ValueError(f"lfr: k (the rows of A) must be an integer >= 1 or null, got {k!r}")
        for what, v in (("lambda1", lambda1), ("lambda2", lambda2)):
            if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v) or v < 0:
                raise ValueError(f"lfr: {what} must be a finite number >= 0, got {v!r}")
        if loss not in ("A", "B"):
            raise ValueError(f"lfr: loss must be 'A' (decoder fed z) or 'B' (decoder fed A^T A z), got {loss!r}")
        self.k, self.lambda1, self.lambda2, self.config = k, float(lambda1), float(lambda2), loss

    def rank(self, latent: int) -> int:
        k = max(1, latent // 2) if self.k is None else self.k
        if k > latent:
            raise ValueError(f"lfr: k={k} rows of A exceed the latent size {latent}")
        return k

    def check(self, latent: int) -> None:
        self.rank(latent)

    def params(self) -> dict[str, Any]:
        return {"k": self.k, "lambda1": self.lambda1, "lambda2": self.lambda2, "loss": self.config}

    def parts(self, spec: AESpec) -> nn.Module:
        return LFRLayer(self.rank(spec.latent), spec.latent)

    def _terms(self, ae: Autoencoder, parts: nn.Module | None, xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(per-row loss without the orthogonality term, the orthogonality term)."""
        if not isinstance(parts, LFRLayer):
            raise ValueError("lfr: the model has no LFR layer (its parts were not built by this variant)")
        z = ae.encoder(xb)
        zp = parts(z)
        xhat = ae.decoder(z if self.config == "A" else zp)
        rows = ((xhat - xb) ** 2).mean(dim=1) + self.lambda1 * torch.linalg.vector_norm(z - zp, dim=1)
        eye = torch.eye(parts.A.shape[0], dtype=parts.A.dtype, device=parts.A.device)
        return rows, self.lambda2 * ((parts.A @ parts.A.T - eye) ** 2).sum()

    def loss(self, ae: Autoencoder, parts: nn.Module | None, xb: torch.Tensor) -> torch.Tensor:
        rows, ortho = self._terms(ae, parts, xb)
        return rows.mean() + ortho

    def val_sum(self, ae: Autoencoder, parts: nn.Module | None, xb: torch.Tensor) -> float:
        rows, ortho = self._terms(ae, parts, xb)
        return float((rows.sum() + ortho * len(xb)).detach())

    def outputs(
        self, ae: Autoencoder, parts: nn.Module | None, xs: torch.Tensor, z: torch.Tensor, xhat: torch.Tensor
    ) -> dict[str, Any]:
        """err_b: the squared error of the decoder fed A^T A z (S_B, eq. 7); lfr_residual: ||z - A^T A z||."""
        if parts is None:
            raise ValueError("lfr: the model has no LFR layer")
        zp = parts(z)
        err_b = ((ae.decoder(zp) - xs) ** 2).sum(dim=1)
        residual = torch.linalg.vector_norm(z - zp, dim=1)
        return {
            "err_b": err_b.numpy().astype(np.float64),
            "lfr_residual": residual.numpy().astype(np.float64),
        }

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        yield {}
        yield {"k": 2, "lambda1": 0.5, "lambda2": 0.05, "loss": "B"}


class VAE(Variant):
    """The VAE backbone (pipelines/model/vae.py): mean and log-variance heads, trained on the beta-VAE's negated ELBO
    with one reparameterised sample per window, divided by the input width so that the loss is on the plain
    autoencoder's scale (its MSE) and the same learning rate serves. The validation loss decodes the mean (no draw),
    so early stopping reads a deterministic number. ``outputs``: log sigma^2 per window for the vae scorers."""

    name = "vae"
    has_outputs = True

    def __init__(self, beta: float = 1.0) -> None:
        if isinstance(beta, bool) or not isinstance(beta, int | float) or not np.isfinite(beta) or beta < 0:
            raise ValueError(f"vae: beta (the KL term's weight) must be a finite number >= 0, got {beta!r}")
        self.beta = float(beta)

    def params(self) -> dict[str, Any]:
        return {"beta": self.beta}

    def parts(self, spec: AESpec) -> nn.Module:
        return LogVarHead(spec)

    def _rows(self, ae: Autoencoder, parts: nn.Module | None, xb: torch.Tensor, sample: bool) -> torch.Tensor:
        if not isinstance(parts, LogVarHead):
            raise ValueError("vae: the model has no log-variance head (its parts were not built by this variant)")
        return negative_elbo_rows(ae, parts, xb, self.beta, sample) / xb.shape[1]

    def loss(self, ae: Autoencoder, parts: nn.Module | None, xb: torch.Tensor) -> torch.Tensor:
        return self._rows(ae, parts, xb, sample=True).mean()

    def val_sum(self, ae: Autoencoder, parts: nn.Module | None, xb: torch.Tensor) -> float:
        return float(self._rows(ae, parts, xb, sample=False).sum().detach())

    def outputs(
        self, ae: Autoencoder, parts: nn.Module | None, xs: torch.Tensor, z: torch.Tensor, xhat: torch.Tensor
    ) -> dict[str, Any]:
        """vae_logvar: log sigma^2 of q(z|x) [B, latent] (z, the latent the frozen model read, is its mean)."""
        if not isinstance(parts, LogVarHead):
            raise ValueError("vae: the model has no log-variance head")
        return {"vae_logvar": parts(ae, xs)[1].numpy()}

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        yield {}
        yield {"beta": 0.25}


# name -> (class, fixed hyperparameters); user params override the fixed ones (as the scorer registry).
REGISTRY: dict[str, tuple[type[Variant], dict[str, Any]]] = {
    "ae": (Variant, {}),
    "lfr": (LFR, {}),
    "lfr-b": (LFR, {"loss": "B"}),
    "vae": (VAE, {}),
}


def make_variant(name: str, **params: Any) -> Variant:
    """The variant of that registry name with these hyperparameters; a clear error for an unknown name or value."""
    if name not in REGISTRY:
        raise ValueError(f"unknown training variant {name!r}; choose from {sorted(REGISTRY)}")
    cls, fixed = REGISTRY[name]
    try:
        variant = cls(**{**fixed, **params})
    except TypeError as e:
        raise ValueError(f"training variant {name!r}: {e}") from None
    variant.name = name
    return variant


PREFIX = "variant."  # the parts' tensors in model.safetensors

# Variants in modules of their own subclass Variant and add themselves to REGISTRY when imported, so they are
# imported here, after both exist (whichever module is imported first, the registry is whole once it returns).
import pipelines.model.cance  # noqa: E402,F401  "cance"
import pipelines.model.deae  # noqa: E402,F401  "deae"
