"""Training as in the ARES protocol: Adam, MSE, batch 250, up to 350 epochs, early stopping with patience 20 on the
validation loss, best weights kept. Seeded and reproducible on the CPU.

The loss is the training variant's (pipelines/model/variants.py: the plain autoencoder's MSE unless a variant adds
terms); a variant's extra parts (the LFR layer's A) are optimised with the autoencoder and kept at the best epoch.
A variant with stages after this one (CANCE) runs them in its ``after_fit`` hook, through the same loop
(pipelines/model/stage.py)."""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from pipelines.model.autoencoder import AESpec, Autoencoder
from pipelines.model.stage import fit_stage
from pipelines.model.variants import StageInputs, Variant


@dataclass(frozen=True)
class TrainParams:
    epochs: int = 350
    patience: int = 20
    batch_size: int = 250
    lr: float = 1e-3
    weight_decay: float = 0.0
    device: str = "auto"


@dataclass
class TrainResult:
    model: Autoencoder
    best_epoch: int
    epochs_run: int
    best_val_loss: float
    history: list[tuple[float, float]] = field(default_factory=list)
    parts: nn.Module | None = None  # the variant's trained extra parts (None for the plain autoencoder)


def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _mean_loss(model: Autoencoder, X: torch.Tensor, variant: Variant, parts: nn.Module | None) -> float:
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(X), 8192):
            total += variant.val_sum(model, parts, X[i : i + 8192])
    return total / max(len(X), 1)


def train_autoencoder(
    X_train: np.ndarray,
    X_val: np.ndarray,
    spec: AESpec,
    params: TrainParams = TrainParams(),
    seed: int = 0,
    progress: bool | None = None,
    variant: Variant | None = None,
) -> TrainResult:
    """Fit on scaled training windows; early-stop on the scaled validation windows. ``variant``: the training
    variant whose loss is minimised (None: the plain autoencoder); its ``ae_spec`` may change the network (CANCE's
    batch-normalised latent) and its ``after_fit`` runs its further stages on the best stage-1 model."""
    if X_train.shape[1] != spec.input_dim or X_val.shape[1] != spec.input_dim:
        raise ValueError(f"training data width {X_train.shape[1]}/{X_val.shape[1]} != model input_dim {spec.input_dim}")
    if len(X_train) == 0 or len(X_val) == 0:
        raise ValueError("training and validation sets must not be empty")
    gen = seed_everything(seed)
    device = pick_device(params.device)
    variant = Variant() if variant is None else variant
    spec = variant.ae_spec(spec)
    model = Autoencoder(spec).to(device)
    parts = variant.parts(spec)
    trained = list(model.parameters())
    modules: list[nn.Module] = [model]
    if parts is not None:
        parts = parts.to(device)
        trained += list(parts.parameters())
        modules.append(parts)
    opt = torch.optim.Adam(trained, lr=params.lr, weight_decay=params.weight_decay)
    Xt = torch.as_tensor(X_train, dtype=torch.float32, device=device)
    Xv = torch.as_tensor(X_val, dtype=torch.float32, device=device)

    def step(idx: torch.Tensor) -> float:
        loss = variant.loss(model, parts, Xt[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        return float(loss.detach())

    show = sys.stderr.isatty() if progress is None else progress
    stage = fit_stage(
        len(Xt),
        step,
        lambda: _mean_loss(model, Xv, variant, parts),
        modules,
        epochs=params.epochs,
        patience=params.patience,
        batch_size=params.batch_size,
        gen=gen,
        device=device,
        min_batch=2 if spec.latent_norm == "batch" else 1,
        progress=show,
    )
    variant.after_fit(model, parts, StageInputs(Xt, Xv, params, gen, show))
    if parts is not None:
        parts = parts.cpu().eval()
    model.eval()
    return TrainResult(
        model=model.cpu(),
        best_epoch=stage.best_epoch,
        epochs_run=stage.epochs_run,
        best_val_loss=stage.best_val_loss,
        history=stage.history,
        parts=parts,
    )
