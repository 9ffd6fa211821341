"""The frozen model as the scoring path sees it: scaler + autoencoder (+ its training variant's parts), inference
only, numpy in and out.

Inference runs in float64 on a private copy of the weights (the stored weights stay float32), and the latents and
reconstructions come back rounded to float32: a float32 matrix product takes another kernel for another batch size,
so a window's latent moved by ~1e-7 with the batch it was scored in, and a score that close to a threshold could
decide differently after a restart replayed it in a batch of another size. In float64 that noise is ~1e-16 and
vanishes in the rounding, so a window's values no longer depend on its batch.
"""

from __future__ import annotations

import copy
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
    _ae64: Autoencoder = field(init=False, repr=False, compare=False)
    _parts64: nn.Module | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for m in (self.ae, self.parts):
            if m is not None:
                m.eval()
                for p in m.parameters():
                    p.requires_grad_(False)
        self._ae64 = copy.deepcopy(self.ae).double()
        self._parts64 = None if self.parts is None else copy.deepcopy(self.parts).double()

    def with_scaler(self, scaler: Scaler) -> FrozenModel:
        """The same network (and variant parts) behind another scaler (an asset's own)."""
        other = copy.copy(self)  # shares the inference copies: one per network, however many assets scale apart
        other.scaler = scaler
        return other

    def extra(self, Xs: np.ndarray, z: np.ndarray, xhat: np.ndarray | None = None) -> dict[str, Any]:
        """What the training variant adds per window for its scorers (``Encoded.extra``); {} for the plain AE.
        ``xhat``: the reconstruction ``encode_scaled`` already gave for ``z`` (decoded here when not given)."""
        if not self.variant.has_outputs:
            return {}
        with torch.inference_mode():
            xt, zt = _f64(Xs), _f64(z)
            xh = self._ae64.decoder(zt) if xhat is None else _f64(xhat)
            out = self.variant.outputs(self._ae64, self._parts64, xt, zt, xh)
        return {k: _rounded(v) for k, v in out.items()}

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
            xt = _f64(np.asarray(Xs, dtype=np.float32))
            z = self._ae64.encoder(xt).float()
            xhat = self._ae64.decoder(z.double()).float()
            err = ((xhat.double() - xt) ** 2).sum(dim=1)
        return z.numpy(), xhat.numpy(), err.numpy()

    def encode(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        Xs = self.scaler.transform(self.check(X))
        return (Xs, *self.encode_scaled(Xs))

    def decode(self, Z: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out: np.ndarray = self._ae64.decoder(_f64(np.asarray(Z, dtype=np.float32))).float().numpy()
            return out


def _rounded(v: Any) -> Any:
    """A float64 output rounded through float32 (its float64 kernel noise gone), kept as float64."""
    if isinstance(v, np.ndarray) and v.dtype == np.float64:
        return v.astype(np.float32).astype(np.float64)
    return v


def _f64(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))
