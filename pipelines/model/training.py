"""Training as in the ARES protocol: Adam, MSE, batch 250, up to 350 epochs, early stopping with patience 20 on the
validation loss, best weights kept. Seeded and reproducible on the CPU.

The loss is the training variant's (pipelines/model/variants.py: the plain autoencoder's MSE unless a variant adds
terms); a variant's extra parts (the LFR layer's A) are optimised with the autoencoder and kept at the best epoch."""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from pipelines.model.autoencoder import AESpec, Autoencoder
from pipelines.model.variants import Variant


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
    variant whose loss is minimised (None: the plain autoencoder)."""
    if X_train.shape[1] != spec.input_dim or X_val.shape[1] != spec.input_dim:
        raise ValueError(f"training data width {X_train.shape[1]}/{X_val.shape[1]} != model input_dim {spec.input_dim}")
    if len(X_train) == 0 or len(X_val) == 0:
        raise ValueError("training and validation sets must not be empty")
    gen = seed_everything(seed)
    device = pick_device(params.device)
    variant = Variant() if variant is None else variant
    model = Autoencoder(spec).to(device)
    parts = variant.parts(spec)
    trained = list(model.parameters())
    if parts is not None:
        parts = parts.to(device)
        trained += list(parts.parameters())
    opt = torch.optim.Adam(trained, lr=params.lr, weight_decay=params.weight_decay)
    Xt = torch.as_tensor(X_train, dtype=torch.float32, device=device)
    Xv = torch.as_tensor(X_val, dtype=torch.float32, device=device)
    best, best_state, best_epoch, since_best = float("inf"), None, -1, 0
    best_parts: dict[str, torch.Tensor] | None = None
    history: list[tuple[float, float]] = []
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(range(params.epochs), desc="train", disable=not show, leave=False)
    epoch = -1
    for epoch in bar:
        model.train()
        if parts is not None:
            parts.train()
        perm = torch.randperm(len(Xt), generator=gen).to(device)
        run = 0.0
        for i in range(0, len(Xt), params.batch_size):
            xb = Xt[perm[i : i + params.batch_size]]
            loss = variant.loss(model, parts, xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            run += float(loss.detach()) * len(xb)
        model.eval()
        val = _mean_loss(model, Xv, variant, parts)
        history.append((run / len(Xt), val))
        bar.set_postfix(train=f"{run / len(Xt):.4g}", val=f"{val:.4g}")
        if val < best - 1e-12:
            best, best_epoch, since_best = val, epoch, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if parts is not None:
                best_parts = {k: v.detach().clone() for k, v in parts.state_dict().items()}
        else:
            since_best += 1
            if since_best >= params.patience:
                break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    if parts is not None:
        if best_parts is not None:
            parts.load_state_dict(best_parts)
        parts = parts.cpu().eval()
    model.eval()
    return TrainResult(
        model=model.cpu(),
        best_epoch=best_epoch,
        epochs_run=epoch + 1,
        best_val_loss=best,
        history=history,
        parts=parts,
    )
