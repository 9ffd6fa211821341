"""The frozen model as the scoring path sees it: scaler + autoencoder (+ its training variant's parts), inference
only, numpy in and out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from pipelines.model.autoencoder import Autoencoder
from pipelines.model.scaler import Scaler
from pipelines.model.variants import Variant


@dataclass
class FrozenModel:
    scaler: Scaler
    ae: Autoencoder
    variant: Variant = field(default_factory=Variant)  # the training variant (pipelines/model/variants.py)
    parts: nn.Module | None = None  # its trained extra parts (the LFR layer), None for the plain autoencoder

    def __post_init__(self) -> None:
        for m in (self.ae, self.parts):
            if m is not None:
                m.eval()
                for p in m.parameters():
                    p.requires_grad_(False)

    def with_scaler(self, scaler: Scaler) -> FrozenModel:
        """The same network (and variant parts) behind another scaler (an asset's own)."""
        return FrozenModel(scaler=scaler, ae=self.ae, variant=self.variant, parts=self.parts)

    def extra(self, Xs: np.ndarray, z: np.ndarray, xhat: np.ndarray | None = None) -> dict[str, Any]:
        """What the training variant adds per window for its scorers (``Encoded.extra``); {} for the plain AE.
        ``xhat``: the reconstruction ``encode_scaled`` already gave for ``z`` (decoded here when not given)."""
        if not self.variant.has_outputs:
            return {}
        with torch.inference_mode():
            xt = torch.from_numpy(np.ascontiguousarray(Xs, dtype=np.float32))
            zt = torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32))
            xh = self.ae.decoder(zt) if xhat is None else torch.from_numpy(np.ascontiguousarray(xhat, dtype=np.float32))
            return self.variant.outputs(self.ae, self.parts, xt, zt, xh)

    @property
    def dim(self) -> int:
        return self.scaler.dim

    @property
    def latent_dim(self) -> int:
        return self.ae.spec.latent

    def check(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"expected a 2-d batch [B, {self.dim}], got shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError("empty batch: nothing to score")
        if X.shape[1] != self.dim:
            raise ValueError(f"wrong vector length: got {X.shape[1]} values per window, the model expects {self.dim}")
        if not np.issubdtype(X.dtype, np.number):
            raise ValueError(f"values must be numeric, got dtype {X.dtype}")
        bad = ~np.isfinite(X).all(axis=1)
        if bad.any():
            rows = np.flatnonzero(bad)[:5].tolist()
            raise ValueError(f"NaN or inf in {int(bad.sum())} window(s), first rows {rows}")
        return X

    def encode_scaled(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Scaled input -> (latent, reconstruction, squared reconstruction error)."""
        with torch.inference_mode():
            xt = torch.from_numpy(np.ascontiguousarray(Xs, dtype=np.float32))
            z = self.ae.encoder(xt)
            xhat = self.ae.decoder(z)
            err = ((xhat - xt) ** 2).sum(dim=1)
        return z.numpy(), xhat.numpy(), err.numpy().astype(np.float64)

    def encode(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        Xs = self.scaler.transform(self.check(X))
        return (Xs, *self.encode_scaled(Xs))

    def decode(self, Z: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out: np.ndarray = self.ae.decoder(torch.from_numpy(np.ascontiguousarray(Z, dtype=np.float32))).numpy()
            return out
