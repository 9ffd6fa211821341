"""Model fitting for the evaluation: `pipelines.train.fit_bundle`, plus the two choices it does not offer yet.

The evaluation found two settings that the production path cannot express today (both are proposed for
`pipelines/train.py`, `pipelines/model/scaler.py` and `pipelines/reference/build.py`; see docs/evaluation.md):

- scaler="minmax": per-feature min-max scaling on the training split, (x - min) / (max - min), with the same
  scale floors and clip as `Scaler`. It is still a `Scaler` (center=min, scale=range), so an artifact stores and
  loads it unchanged. z-scoring divides sparse one-hot columns (MI-F/MI-V's process stages) by a tiny standard
  deviation, so a rare stage bit becomes a +-10 coordinate that dominates both the reconstruction error and the
  latent geometry; min-max keeps it at 0/1.
- reference="windows": one reference item per training window, duplicates kept. The production reference
  collapses identical windows into one item with a count, and its k-NN / LOF statistics ignore the count. On EOPT
  a value's multiplicity is the signal (a normal rest state recurs in every storage cycle, a faulty run's rarely),
  so collapsing loses it. Keeping every window is the same as making the neighbour statistics count-weighted.

With scaler="zscore" and reference="distinct" this is exactly `fit_bundle`.
"""
from __future__ import annotations

import time

import numpy as np

from pipelines.model.autoencoder import AESpec
from pipelines.model.frozen import FrozenModel
from pipelines.model.scaler import Scaler
from pipelines.model.train import TrainParams, train_autoencoder
from pipelines.reference.build import Reference, build_reference
from pipelines.reference.search import NeighbourIndex, exact_knn
from pipelines.train import Bundle, TrainSpec, fit_bundle

SCALERS = ("zscore", "minmax")
REFERENCES = ("distinct", "windows")


def minmax_scaler(X: np.ndarray, clip: float, rel_floor: float = 1e-3, abs_floor: float = 1e-6) -> Scaler:
    """(x - min) / (max - min) per feature, fitted on X; a `Scaler` with center=min and scale=range (floored
    like `Scaler.fit`, so constant features do not divide by zero)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2 or not np.isfinite(X).all():
        raise ValueError(f"minmax scaler needs a finite 2-d array with at least 2 rows, got shape {X.shape}")
    lo, hi = X.min(axis=0), X.max(axis=0)
    floor = np.maximum(rel_floor * np.maximum(np.abs(lo), np.abs(hi)), abs_floor)
    return Scaler(center=lo, scale=np.maximum(hi - lo, floor), clip=float(clip))


def build_window_reference(model: FrozenModel, Xs: np.ndarray, k: int, floor_frac: float = 1e-3) -> Reference:
    """Like `build_reference`, but one item per window (no duplicate collapse) and always the exact search.

    The distance floor of `build_reference` guards the reachability distances of repeated windows.
    """
    Xs = np.asarray(Xs, dtype=np.float32)
    zs, errs = [], []
    for s in range(0, len(Xs), 65536):
        z, _, e = model.encode_scaled(Xs[s:s + 65536])
        zs.append(z)
        errs.append(e)
    latents = np.concatenate(zs)
    if len(latents) <= k:
        raise ValueError(f"reference needs more than k={k} windows, got {len(latents)}")
    nbr, dist = exact_knn(latents, latents, k, exclude_self=True)
    kdist = dist[:, -1].astype(np.float64)
    positive = kdist[kdist > 0]
    floor = max(float(floor_frac * np.median(positive)) if len(positive) else 1e-12, 1e-12)
    reach = np.maximum(np.maximum(kdist[nbr], dist), floor)
    index = NeighbourIndex(latents, None, exact_max=len(latents) + 1)
    return Reference(index=index, err=np.concatenate(errs), kdist=kdist, lrd=1.0 / reach.mean(axis=1),
                     counts=np.ones(len(latents), np.int64), window_ids=np.arange(len(latents), dtype=np.int64),
                     k=k, dist_floor=floor)


def fit_eval_bundle(X_train: np.ndarray, X_val: np.ndarray, spec: TrainSpec, seed: int, scaler: str = "zscore",
                    reference: str = "distinct") -> Bundle:
    if scaler not in SCALERS or reference not in REFERENCES:
        raise ValueError(f"scaler must be one of {SCALERS} and reference one of {REFERENCES}, "
                         f"got {scaler!r}, {reference!r}")
    if scaler == "zscore" and reference == "distinct":
        return fit_bundle(X_train, X_val, spec, seed=seed, progress=False)
    t0 = time.perf_counter()
    sc = Scaler.fit(X_train, clip=spec.clip) if scaler == "zscore" else minmax_scaler(X_train, spec.clip)
    Xt, Xv = sc.transform(X_train), sc.transform(X_val)
    ae_spec = AESpec(input_dim=X_train.shape[1], hidden=tuple(spec.hidden), latent=spec.latent,
                     activation=spec.activation, dropout=spec.dropout)
    params = TrainParams(epochs=spec.epochs, patience=spec.patience, batch_size=spec.batch_size, lr=spec.lr,
                         device=spec.device)
    result = train_autoencoder(Xt, Xv, ae_spec, params, seed=seed, progress=False)
    model = FrozenModel(scaler=sc, ae=result.model)
    t1 = time.perf_counter()
    if reference == "windows":
        ref = build_window_reference(model, Xt, k=spec.k)
    else:
        ref = build_reference(model, Xt, k=spec.k, n_trees=spec.n_trees, seed=seed, exact_max=spec.exact_max,
                              search_k=spec.search_k)
    metrics = {"train_rows": int(len(X_train)), "val_rows": int(len(X_val)), "reference_items": ref.size,
               "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
               "best_val_loss": result.best_val_loss, "train_seconds": round(t1 - t0, 3),
               "reference_seconds": round(time.perf_counter() - t1, 3)}
    return Bundle(model=model, reference=ref, metrics=metrics)
