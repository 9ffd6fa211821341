"""One training stage: seeded epochs over shuffled mini-batches, early stopping on a validation loss, the modules'
state at the best epoch kept. The autoencoder's training (pipelines/model/training.py) is one stage; a variant with
more (CANCE: the decoder alone, then its estimation networks) runs its own through the same loop, so every stage
stops and restores the same way.

It depends on torch alone (no variant), so a variant's module can import it without an import cycle."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm import tqdm


@dataclass
class StageResult:
    best_epoch: int
    epochs_run: int
    best_val_loss: float
    history: list[tuple[float, float]] = field(default_factory=list)


def fit_stage(
    n_train: int,
    step: Callable[[torch.Tensor], float],
    validate: Callable[[], float],
    modules: Sequence[nn.Module],
    *,
    epochs: int,
    patience: int,
    batch_size: int,
    gen: torch.Generator,
    device: torch.device,
    train_modules: Sequence[nn.Module] | None = None,
    min_batch: int = 1,
    desc: str = "train",
    progress: bool = False,
) -> StageResult:
    """Run ``step(idx)`` (one optimiser step on the training rows ``idx``; returns the batch's mean loss) over each
    epoch's seeded permutation, then ``validate()`` with every module in eval mode; stop after ``patience`` epochs
    without a better validation loss and load the best epoch's state into ``modules``. ``train_modules`` (default:
    ``modules``) are put in train mode before each epoch; the others stay as they are (a frozen encoder stays in
    eval mode, so its batch-norm statistics do not move). A trailing batch of fewer than ``min_batch`` rows is
    skipped (batch norm cannot train on one row)."""
    train_modules = modules if train_modules is None else train_modules
    best, best_epoch, since_best = float("inf"), -1, 0
    best_state: list[dict[str, torch.Tensor]] | None = None
    history: list[tuple[float, float]] = []
    bar = tqdm(range(epochs), desc=desc, disable=not progress, leave=False)
    epoch = -1
    for epoch in bar:
        for m in train_modules:
            m.train()
        perm = torch.randperm(n_train, generator=gen).to(device)
        run, seen = 0.0, 0
        for i in range(0, n_train, batch_size):
            idx = perm[i : i + batch_size]
            if len(idx) < min_batch:
                continue
            run += step(idx) * len(idx)
            seen += len(idx)
        for m in modules:
            m.eval()
        val = validate()
        history.append((run / max(seen, 1), val))
        bar.set_postfix(train=f"{run / max(seen, 1):.4g}", val=f"{val:.4g}")
        if val < best - 1e-12:
            best, best_epoch, since_best = val, epoch, 0
            best_state = [{k: v.detach().clone() for k, v in m.state_dict().items()} for m in modules]
        else:
            since_best += 1
            if since_best >= patience:
                break
    bar.close()
    if best_state is not None:
        for m, state in zip(modules, best_state, strict=True):
            m.load_state_dict(state)
    for m in modules:
        m.eval()
    return StageResult(best_epoch=best_epoch, epochs_run=epoch + 1, best_val_loss=best, history=history)
