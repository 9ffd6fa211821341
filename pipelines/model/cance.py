"""CANCE (cance-composite-features-nce.md, section 3 and appendices A-C) as a training variant: an autoencoder with
a batch-normalised latent and the covariance loss, trained in two stages, then estimation networks trained by
noise-contrastive estimation on the composite features of the training windows (pipelines/model/nce.py).

- Stage 1 (eq. 11-12): MSE(x, xhat) + lambda * the mean of the squared off-diagonal entries of the batch covariance
  of z, the latent after a BatchNorm1d without affine terms (``AESpec.latent_norm="batch"``), so that the latent's
  covariance stays well conditioned for the Gaussian noise distribution.
- Stage 2 (the decoupled strategy): the encoder frozen (eval mode: its batch-norm statistics do not move either),
  the decoder trained further on the MSE alone, with its own early stopping.
- Stage 3: the composite feature c = [z, ||x - xhat||^2 / d, 1 - cos(x, xhat)] of every training window, and three
  estimation networks on it, so one autoencoder serves the paper's whole Table 1 ablation: "latnce" (z alone, no
  augmentation), "cnce" (c, no augmentation) and "cance" (c with eq. 8's augmentation). Each has its own noise
  Gaussian (fitted to its features) and adversarial scale, and its own early stopping on the validation NCE loss
  (fixed noise draws and augmentation, so the number is deterministic).

The sensor-vector adaptation: an MLP autoencoder (the paper's is convolutional, or a ResNet-18 + PCA, which has no
counterpart here); the stages share the training spec's epochs, patience, batch size and learning rate.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from pipelines.model.autoencoder import AESpec, Autoencoder
from pipelines.model.nce import NCEHead, augment, batched_moments, lognormal_mode, nce_terms, noise_term_of
from pipelines.model.stage import fit_stage
from pipelines.model.variants import REGISTRY, StageInputs, Variant, layer_sizes

HEADS = ("latnce", "cnce", "cance")  # feature set and augmentation: z / composite / composite + eq. 8
REC = 2  # the reconstruction features at the end of the composite feature: normalised error, cosine dissimilarity


def covariance_loss(z: torch.Tensor) -> torch.Tensor:
    """The mean of the squared off-diagonal entries of the (n - 1)-normalised covariance of the rows of z [n, k]
    (appendix A, eq. 12); 0 for a one-dimensional latent."""
    n, k = z.shape
    if k < 2:
        return z.new_zeros(())
    zc = z - z.mean(dim=0)
    cov = zc.T @ zc / (n - 1)
    off = cov * (1 - torch.eye(k, dtype=z.dtype, device=z.device))
    return (off**2).sum() / (k * (k - 1))


def composite(xs: torch.Tensor, xhat: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """[z, normalised squared error ||x - xhat||^2 / d, cosine dissimilarity 1 - cos(x, xhat)] per row."""
    err = ((xhat - xs) ** 2).mean(dim=1, keepdim=True)
    cos = 1.0 - F.cosine_similarity(xs, xhat, dim=1, eps=1e-8)[:, None]
    return torch.cat([z, err, cos], dim=1)


class CANCEParts(nn.Module):
    """The three estimation networks and the augmentation's truncated-normal parameters (mode, sd) per
    reconstruction feature."""

    rec_mode: torch.Tensor
    rec_sd: torch.Tensor

    def __init__(self, latent: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.latent = latent
        self.heads = nn.ModuleDict({h: NCEHead(latent if h == "latnce" else latent + REC, hidden) for h in HEADS})
        self.register_buffer("rec_mode", torch.zeros(REC))
        self.register_buffer("rec_sd", torch.ones(REC))

    def head(self, name: str) -> NCEHead:
        h = self.heads[name]
        assert isinstance(h, NCEHead)
        return h

    def features(self, name: str, c: torch.Tensor) -> torch.Tensor:
        return c[:, : self.latent] if name == "latnce" else c


def _positive(what: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v) or v <= 0:
        raise ValueError(f"cance: {what} must be a finite number > 0, got {v!r}")
    return float(v)


class CANCE(Variant):
    """Defaults: lambda (the covariance loss's weight) 1, nu (noise draws per feature) 1, estimation networks with
    hidden layers (64, 64), their learning rate 1e-3. The paper's nu was lost in its extraction; its rule for lambda
    (the smallest that keeps the latent's covariance well conditioned) is what the README's probe reports."""

    name = "cance"
    has_outputs = True

    def __init__(
        self, lam: float = 1.0, nu: float = 1.0, head_hidden: Sequence[int] = (64, 64), nce_lr: float = 1e-3
    ) -> None:
        if isinstance(lam, bool) or not isinstance(lam, int | float) or not np.isfinite(lam) or lam < 0:
            raise ValueError(f"cance: lam (the covariance loss's weight) must be a finite number >= 0, got {lam!r}")
        self.lam, self.nu, self.nce_lr = float(lam), _positive("nu", nu), _positive("nce_lr", nce_lr)
        self.head_hidden = layer_sizes("cance", "head_hidden", head_hidden)

    def params(self) -> dict[str, Any]:
        return {"lam": self.lam, "nu": self.nu, "head_hidden": list(self.head_hidden), "nce_lr": self.nce_lr}

    def ae_spec(self, spec: AESpec) -> AESpec:
        return replace(spec, latent_norm="batch")

    def parts(self, spec: AESpec) -> nn.Module:
        return CANCEParts(spec.latent, self.head_hidden)

    def _rows(self, ae: Autoencoder, xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = ae.encoder(xb)
        return ((ae.decoder(z) - xb) ** 2).mean(dim=1), self.lam * covariance_loss(z)

    def loss(self, ae: Autoencoder, parts: nn.Module | None, xb: torch.Tensor) -> torch.Tensor:
        rows, cov = self._rows(ae, xb)
        return rows.mean() + cov

    def val_sum(self, ae: Autoencoder, parts: nn.Module | None, xb: torch.Tensor) -> float:
        rows, cov = self._rows(ae, xb)
        return float((rows.sum() + cov * len(xb)).detach())

    def after_fit(self, ae: Autoencoder, parts: nn.Module | None, fit: StageInputs) -> None:
        if not isinstance(parts, CANCEParts):
            raise ValueError("cance: the model has no estimation networks (its parts were not built by this variant)")
        self.train_decoder(ae, fit)
        C_train, C_val = _features(ae, fit.X_train), _features(ae, fit.X_val)
        mean, cov = batched_moments(torch.split(C_train, 8192))
        rec_mean, rec_var = mean[-REC:], torch.diagonal(cov)[-REC:]
        parts.rec_mode.copy_(lognormal_mode(rec_mean, rec_var).float())
        parts.rec_sd.copy_(torch.sqrt(rec_var).clamp_min(1e-8).float())
        for name in HEADS:
            head = parts.head(name)
            feats_t, feats_v = parts.features(name, C_train), parts.features(name, C_val)
            m = head.m
            head.fit_noise(mean[:m] if name == "latnce" else mean, cov[:m, :m] if name == "latnce" else cov)
            self.train_head(head, feats_t, feats_v, parts if name == "cance" else None, fit)

    def train_decoder(self, ae: Autoencoder, fit: StageInputs) -> None:
        """Stage 2: the decoder alone on the MSE, the encoder frozen in eval mode."""
        X_train, X_val, params = fit.X_train, fit.X_val, fit.params
        ae.encoder.eval()
        with torch.no_grad():
            Z_train = torch.cat([ae.encoder(c) for c in torch.split(X_train, 8192)])
            Z_val = torch.cat([ae.encoder(c) for c in torch.split(X_val, 8192)])
        opt = torch.optim.Adam(ae.decoder.parameters(), lr=params.lr, weight_decay=params.weight_decay)

        def step(idx: torch.Tensor) -> float:
            loss = ((ae.decoder(Z_train[idx]) - X_train[idx]) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return float(loss.detach())

        def validate() -> float:
            with torch.no_grad():
                return float(((ae.decoder(Z_val) - X_val) ** 2).mean())

        fit_stage(
            len(X_train),
            step,
            validate,
            [ae.decoder],
            epochs=params.epochs,
            patience=params.patience,
            batch_size=params.batch_size,
            gen=fit.gen,
            device=X_train.device,
            desc="cance decoder",
            progress=fit.progress,
        )

    def train_head(
        self,
        head: NCEHead,
        F_train: torch.Tensor,
        F_val: torch.Tensor,
        aug: CANCEParts | None,
        fit: StageInputs,
    ) -> None:
        """Stage 3 for one estimation network on its features ``F_train``/``F_val``: G and the noise scale stepped in
        turn on each batch (eq. 9, 10); ``aug``: the parts whose truncated normals augment the data (eq. 8), None for
        no augmentation."""
        params, gen = fit.params, fit.gen
        opt_g = torch.optim.AdamW(head.net.parameters(), lr=self.nce_lr)
        opt_s = torch.optim.AdamW([head.s], lr=self.nce_lr, weight_decay=0.0)
        device, m = F_train.device, head.m

        def augmented(c: torch.Tensor, g: torch.Generator) -> torch.Tensor:
            if aug is None:
                return c
            pick = torch.rand(len(c), generator=g).to(device) < 0.5
            u = torch.rand(len(c), REC, generator=g).to(device)
            return augment(c, aug.rec_mode, aug.rec_sd, pick, u)

        val_gen = torch.Generator().manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
        V = augmented(F_val, val_gen)
        eps_val = torch.randn(max(1, int(round(self.nu * len(V)))), m, generator=val_gen).to(device)

        def step(idx: torch.Tensor) -> float:
            c = augmented(F_train[idx], gen)
            eps = torch.randn(max(1, int(round(self.nu * len(idx)))), m, generator=gen).to(device)
            data_term, noise_term = nce_terms(head, c, head.sample(eps).detach(), self.nu)
            loss = data_term + noise_term
            opt_g.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            opt_g.step()
            # eq. 10: the same loss with the data term under stop-gradient (no gradient), maximised over s
            adversary = noise_term_of(head, head.sample(eps), self.nu)
            opt_s.zero_grad(set_to_none=True)
            (-adversary).backward()  # type: ignore[no-untyped-call]
            opt_s.step()
            return float(loss.detach())

        def validate() -> float:
            with torch.no_grad():
                data_term, noise_term = nce_terms(head, V, head.sample(eps_val), self.nu)
                return float(data_term + noise_term)

        fit_stage(
            len(F_train),
            step,
            validate,
            [head],
            epochs=params.epochs,
            patience=params.patience,
            batch_size=params.batch_size,
            gen=gen,
            device=device,
            desc="cance nce",
            progress=fit.progress,
        )

    def outputs(
        self, ae: Autoencoder, parts: nn.Module | None, xs: torch.Tensor, z: torch.Tensor, xhat: torch.Tensor
    ) -> dict[str, Any]:
        """Per head h: ``{h}_logodds`` G(c) and ``{h}_lognoise`` log p_n(c); ``err_norm`` and ``cos_dissim``: the
        composite feature's reconstruction part."""
        if not isinstance(parts, CANCEParts):
            raise ValueError("cance: the model has no estimation networks")
        c = composite(xs, xhat, z)
        out: dict[str, Any] = {
            "err_norm": c[:, -2].numpy().astype(np.float64),
            "cos_dissim": c[:, -1].numpy().astype(np.float64),
        }
        for name in HEADS:
            head, f = parts.head(name), parts.features(name, c)
            out[f"{name}_logodds"] = head.logodds(f).numpy().astype(np.float64)
            out[f"{name}_lognoise"] = head.log_noise(f).numpy()
        return out

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        yield {}
        yield {"lam": 0.1, "nu": 2.0, "head_hidden": [8], "nce_lr": 3e-3}


def _features(ae: Autoencoder, X: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        out = []
        for xb in torch.split(X, 8192):
            z = ae.encoder(xb)
            out.append(composite(xb, ae.decoder(z), z))
        return torch.cat(out)


REGISTRY["cance"] = (CANCE, {})
