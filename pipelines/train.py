"""Offline pipeline: normal windows -> scaler and autoencoder -> reference -> calibrated scorer -> artifact."""
from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.artifact import codec
from pipelines.artifact.store import publish, remove_staging, staging_dir
from pipelines.encode import encode_batch, neighbours_needed
from pipelines.model.autoencoder import AESpec
from pipelines.model.frozen import FrozenModel
from pipelines.model.scaler import METHODS as SCALER_METHODS
from pipelines.model.scaler import Scaler
from pipelines.model.train import TrainParams, train_autoencoder
from pipelines.reference.build import Reference, build_reference
from pipelines.reference.search import DEFAULT_EXACT_MAX
from pipelines.scorers import Scorer, make_scorer


@dataclass(frozen=True)
class TrainSpec:
    hidden: tuple[int, ...] = (64, 32)
    latent: int = 8
    activation: str = "leaky_relu"
    dropout: float = 0.0
    epochs: int = 350
    patience: int = 20
    batch_size: int = 250
    lr: float = 1e-3
    device: str = "auto"
    clip: float = 10.0
    k: int = 10
    n_trees: int = 50
    search_k: int = -1
    exact_max: int = DEFAULT_EXACT_MAX
    val_fraction: float = 0.2
    scorer: str = "ares"
    scorer_params: dict[str, Any] = field(default_factory=dict)
    scaler: str = "zscore"  # "zscore" | "minmax" (pipelines/model/scaler.py)
    reference_dedup: bool = True  # False: one reference item per training window (pipelines/reference/build.py)

    def __post_init__(self) -> None:
        if self.scaler not in SCALER_METHODS:
            raise ValueError(f"TrainSpec.scaler must be one of {SCALER_METHODS}, got {self.scaler!r}")
        if not isinstance(self.reference_dedup, bool):
            raise ValueError(f"TrainSpec.reference_dedup must be true or false, got {self.reference_dedup!r}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainSpec":
        """Inverse of to_dict (an artifact manifest's "spec"); fields it lacks keep their defaults, which are the
        behaviour of artifacts written before the field existed."""
        d = dict(d)
        if "hidden" in d:
            d["hidden"] = tuple(d["hidden"])
        return cls(**d)


@dataclass
class Bundle:
    model: FrozenModel
    reference: Reference
    metrics: dict[str, Any]


def fingerprint(X: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(X, dtype=np.float64).tobytes()).hexdigest()


def split_train_val(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(n * val_fraction)))
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def fit_bundle(X_train: np.ndarray, X_val: np.ndarray, spec: TrainSpec = TrainSpec(), seed: int = 0,
               progress: bool | None = None) -> Bundle:
    t0 = time.perf_counter()
    scaler = Scaler.fit(X_train, clip=spec.clip, method=spec.scaler)
    Xt, Xv = scaler.transform(X_train), scaler.transform(X_val)
    ae_spec = AESpec(input_dim=X_train.shape[1], hidden=tuple(spec.hidden), latent=spec.latent,
                     activation=spec.activation, dropout=spec.dropout)
    params = TrainParams(epochs=spec.epochs, patience=spec.patience, batch_size=spec.batch_size, lr=spec.lr,
                         device=spec.device)
    result = train_autoencoder(Xt, Xv, ae_spec, params, seed=seed, progress=progress)
    model = FrozenModel(scaler=scaler, ae=result.model)
    t1 = time.perf_counter()
    reference = build_reference(model, Xt, k=spec.k, n_trees=spec.n_trees, seed=seed, exact_max=spec.exact_max,
                                search_k=spec.search_k, dedup=spec.reference_dedup)
    metrics = {"train_rows": int(len(X_train)), "val_rows": int(len(X_val)), "reference_items": reference.size,
               "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
               "best_val_loss": result.best_val_loss, "train_seconds": round(t1 - t0, 3),
               "reference_seconds": round(time.perf_counter() - t1, 3)}
    return Bundle(model=model, reference=reference, metrics=metrics)


def calibrate(bundle: Bundle, scorer: Scorer, X_val: np.ndarray) -> np.ndarray:
    """Fit the scorer's normalisation on validation normals; return their scores (SPOT's calibration)."""
    enc = encode_batch(bundle.model, bundle.reference, X_val, neighbours_needed(bundle.reference, scorer))
    scorer.fit(enc, bundle.reference, bundle.model.decode)
    return scorer.score(enc, bundle.reference, bundle.model.decode).score


def fit_artifact(X_normal: np.ndarray, out_root: Path, spec: TrainSpec = TrainSpec(), seed: int = 0,
                 progress: bool | None = None, extra: dict[str, Any] | None = None) -> Path:
    """Train on normal windows and publish a new artifact version under out_root; returns its directory."""
    X_normal = np.asarray(X_normal, dtype=np.float64)
    if X_normal.ndim != 2 or not np.isfinite(X_normal).all():
        raise ValueError(f"training windows must be a finite 2-d array, got shape {X_normal.shape}")
    tr, va = split_train_val(len(X_normal), spec.val_fraction, seed)
    bundle = fit_bundle(X_normal[tr], X_normal[va], spec, seed, progress)
    scorer = make_scorer(spec.scorer, **spec.scorer_params)
    calibration = calibrate(bundle, scorer, X_normal[va])
    staged = staging_dir(Path(out_root))
    try:
        codec.save_model(staged, bundle.model)
        codec.save_reference(staged, bundle.reference)
        codec.save_scorer(staged, scorer, calibration)
        fields = {"data_fingerprint": fingerprint(X_normal), "seed": seed, "spec": spec.to_dict(),
                  "metrics": bundle.metrics, "scorer": scorer.name, "dim": int(X_normal.shape[1]),
                  **(extra or {})}
        return publish(Path(out_root), staged, fields)
    except BaseException:
        remove_staging(staged)
        raise
