"""Offline pipeline: normal windows -> scaler and autoencoder -> reference -> calibrated scorer -> artifact."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.artifact import codec
from pipelines.artifact.store import publish, remove_staging, staging_dir
from pipelines.batch_encoding import encode_batch, neighbours_needed
from pipelines.model.autoencoder import AESpec
from pipelines.model.frozen import FrozenModel
from pipelines.model.scaler import INPUT_NORMS, Scaler
from pipelines.model.scaler import METHODS as SCALER_METHODS
from pipelines.model.training import TrainParams, train_autoencoder
from pipelines.model.variants import Variant, make_variant
from pipelines.reference.build import Reference, build_reference
from pipelines.reference.search import DEFAULT_EXACT_MAX
from pipelines.scorers import Scorer, make_scorer

SPLITS = (None, "seeded", "time")


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
    scorer: str = "rank-mean"
    scorer_params: dict[str, Any] = field(default_factory=dict)
    scaler: str = "zscore"  # "zscore" | "minmax" (pipelines/model/scaler.py)
    # "range" (the default): the scaler's output rescaled to its training rows' range, so the model does not depend
    # on the scaler (README, "The default scorer"); "scaler" (the papers' setup): the scaler's output straight in
    input_norm: str = "range"
    reference_dedup: bool = True  # False: one reference item per training window (pipelines/reference/build.py)
    # how validation (calibration) windows are taken from the normal ones: "seeded" (a seeded random permutation,
    # for tabular sets) or "time" (the last val_fraction of each time-ordered run, after split_gap windows left
    # out so no row is in both); None: chosen by the source at training (``split_for_source``), "seeded" otherwise
    split: str | None = None
    split_gap: int = 0
    # the training variant (pipelines/model/variants.py: "ae", "lfr", "lfr-b") and its hyperparameters; recorded in
    # the artifact's model.json. Specs and artifacts from before the field: "ae"
    variant: str = "ae"
    variant_params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, Integral) or self.k < 1:
            raise ValueError(
                f"TrainSpec.k (neighbours per window in the reference) must be an integer >= 1, got {self.k!r}"
            )
        if self.scaler not in SCALER_METHODS:
            raise ValueError(f"TrainSpec.scaler must be one of {SCALER_METHODS}, got {self.scaler!r}")
        if self.input_norm not in INPUT_NORMS:
            raise ValueError(f"TrainSpec.input_norm must be one of {INPUT_NORMS}, got {self.input_norm!r}")
        if not isinstance(self.reference_dedup, bool):
            raise ValueError(f"TrainSpec.reference_dedup must be true or false, got {self.reference_dedup!r}")
        if self.split not in SPLITS:
            raise ValueError(f"TrainSpec.split must be one of {SPLITS}, got {self.split!r}")
        if not isinstance(self.split_gap, int) or self.split_gap < 0:
            raise ValueError(f"TrainSpec.split_gap must be an integer >= 0, got {self.split_gap!r}")
        if not isinstance(self.variant_params, dict):
            raise ValueError(f"TrainSpec.variant_params must be a mapping, got {self.variant_params!r}")
        try:
            self.make_variant()
        except ValueError as e:
            raise ValueError(f"TrainSpec.variant: {e}") from None

    def make_variant(self) -> Variant:
        """The training variant this spec names, checked against the latent size."""
        variant = make_variant(self.variant, **self.variant_params)
        variant.check(self.latent)
        return variant

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainSpec:
        """Inverse of to_dict (an artifact manifest's "spec"); a field it lacks reads as the behaviour of artifacts
        written before the field existed: its default, except split ("seeded") and input_norm ("scaler")."""
        # artifacts from before these fields: the seeded split, and the scaler's output straight into the model
        # (input_norm "scaler"; "range" became the default later)
        d = {"split": "seeded", "input_norm": "scaler", **d}
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


def split_time_ordered(lengths: Sequence[int], val_fraction: float, gap: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train, val) row indices of consecutive time-ordered runs of these lengths: each run's last val_fraction
    (at least one window) is validation, the ``gap`` windows before it are in neither, the rest is training.
    A run too short for a gap and both parts goes to training whole."""
    tr, va, start = [], [], 0
    for n in lengths:
        n_val = max(1, int(round(n * val_fraction)))
        if n - n_val - gap < 1:
            tr.append(np.arange(start, start + n))
        else:
            tr.append(np.arange(start, start + n - n_val - gap))
            va.append(np.arange(start + n - n_val, start + n))
        start += n
    if not va:
        raise ValueError(f"no run of {list(lengths)} is long enough for a time-ordered split with gap {gap}")
    return np.concatenate(tr), np.concatenate(va)


def split_for_source(spec: TrainSpec, source: str, window_length: int = 1) -> TrainSpec:
    """The spec with ``split`` chosen by the source when unset: "time" for time-series sources (SKAB: calibration
    windows come after the training windows of their run, as in production, instead of interleaved with them),
    with a gap of window_length - 1 windows; "seeded" for tabular sets."""
    from pipelines.sources import TIME_SERIES

    if spec.split is not None:
        return spec
    if source in TIME_SERIES:
        return replace(spec, split="time", split_gap=max(spec.split_gap, window_length - 1))
    return replace(spec, split="seeded")


def fit_bundle(
    X_train: np.ndarray, X_val: np.ndarray, spec: TrainSpec = TrainSpec(), seed: int = 0, progress: bool | None = None
) -> Bundle:
    t0 = time.perf_counter()
    scaler = Scaler.fit(X_train, clip=spec.clip, method=spec.scaler, then_range=spec.input_norm == "range")
    Xt, Xv = scaler.transform(X_train), scaler.transform(X_val)
    ae_spec = AESpec(
        input_dim=X_train.shape[1],
        hidden=tuple(spec.hidden),
        latent=spec.latent,
        activation=spec.activation,
        dropout=spec.dropout,
    )
    params = TrainParams(
        epochs=spec.epochs, patience=spec.patience, batch_size=spec.batch_size, lr=spec.lr, device=spec.device
    )
    variant = spec.make_variant()
    result = train_autoencoder(Xt, Xv, ae_spec, params, seed=seed, progress=progress, variant=variant)
    model = FrozenModel(scaler=scaler, ae=result.model, variant=variant, parts=result.parts)
    t1 = time.perf_counter()
    reference = build_reference(
        model,
        Xt,
        k=spec.k,
        n_trees=spec.n_trees,
        seed=seed,
        exact_max=spec.exact_max,
        search_k=spec.search_k,
        dedup=spec.reference_dedup,
    )
    metrics = {
        "train_rows": int(len(X_train)),
        "val_rows": int(len(X_val)),
        "reference_items": reference.size,
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "best_val_loss": result.best_val_loss,
        "train_seconds": round(t1 - t0, 3),
        "reference_seconds": round(time.perf_counter() - t1, 3),
    }
    return Bundle(model=model, reference=reference, metrics=metrics)


def calibrate(bundle: Bundle, scorer: Scorer, X_val: np.ndarray) -> np.ndarray:
    """Fit the scorer's normalisation on validation normals; return their scores (SPOT's calibration)."""
    enc = encode_batch(bundle.model, bundle.reference, X_val, neighbours_needed(bundle.reference, scorer))
    scorer.fit(enc, bundle.reference, bundle.model.decode)
    return scorer.score(enc, bundle.reference, bundle.model.decode).score


@dataclass
class Fitted:
    """A trained and calibrated model in memory: what ``publish_fitted`` seals into an artifact version."""

    bundle: Bundle
    scorer: Scorer
    calibration: np.ndarray  # the scorer's scores of the validation normals (SPOT's calibration)
    spec: TrainSpec  # with the split that was used
    seed: int
    data_fingerprint: str

    def manifest_fields(self) -> dict[str, Any]:
        return {
            "data_fingerprint": self.data_fingerprint,
            "seed": self.seed,
            "spec": self.spec.to_dict(),
            "metrics": self.bundle.metrics,
            "scorer": self.scorer.name,
            "dim": int(self.bundle.model.dim),
        }


def check_variant(spec: TrainSpec, scorer: Scorer) -> None:
    """A clear error, before training, when the scorer cannot score a model of the spec's training variant."""
    if scorer.variants is not None and spec.variant not in scorer.variants:
        raise ValueError(
            f"scorer {scorer.name!r} scores models of training variant {' or '.join(scorer.variants)}, "
            f"the spec trains {spec.variant!r}: set variant to one of them or choose another scorer"
        )


def check_neighbours(spec: TrainSpec, scorer: Scorer, n_train: int, reference: Reference | None = None) -> None:
    """A clear error, before training (rows) or before calibrating (the built reference's distinct items), when the
    reference cannot give the neighbours that ``spec.k`` or the scorer's own k ask for."""
    need = max(spec.k + 1, scorer.k_needed)
    have, what = (n_train, "training windows") if reference is None else (reference.size, "distinct reference windows")
    if have < need:
        asks = f"the reference's k={spec.k}" + (
            f" and the k={scorer.k_needed} of scorer {scorer.name!r}" if scorer.k_needed > spec.k else ""
        )
        raise ValueError(f"{asks} need at least {need} {what}, got {have}: lower k or train on more windows")


def fit_calibrated(
    X_normal: np.ndarray,
    spec: TrainSpec = TrainSpec(),
    seed: int = 0,
    progress: bool | None = None,
    segments: Sequence[int] | None = None,
) -> Fitted:
    """Split normal windows into training and validation (``spec.split``), train, build the reference and
    calibrate the scorer on the validation windows; nothing is written. ``segments``: see ``fit_artifact``."""
    X_normal = np.asarray(X_normal, dtype=np.float64)
    if X_normal.ndim != 2 or not np.isfinite(X_normal).all():
        raise ValueError(f"training windows must be a finite 2-d array, got shape {X_normal.shape}")
    if spec.split is None:
        spec = replace(spec, split="seeded")
    if spec.split == "time":
        lengths = list(segments) if segments is not None else [len(X_normal)]
        if sum(lengths) != len(X_normal):
            raise ValueError(f"segments sum to {sum(lengths)} windows, X_normal has {len(X_normal)}")
        tr, va = split_time_ordered(lengths, spec.val_fraction, spec.split_gap)
    else:
        tr, va = split_train_val(len(X_normal), spec.val_fraction, seed)
    scorer = make_scorer(spec.scorer, **spec.scorer_params)
    check_variant(spec, scorer)
    check_neighbours(spec, scorer, len(tr))
    bundle = fit_bundle(X_normal[tr], X_normal[va], spec, seed, progress)
    check_neighbours(spec, scorer, len(tr), bundle.reference)
    calibration = calibrate(bundle, scorer, X_normal[va])
    return Fitted(bundle, scorer, calibration, spec, seed, fingerprint(X_normal))


def publish_fitted(
    out_root: Path, fitted: Fitted, extra: dict[str, Any] | None = None, make_current: bool = True
) -> Path:
    """Seal a fitted model into a new version under out_root (sha256 of every file in the manifest); returns its
    directory. ``make_current``: also point ``current.json`` at it."""
    staged = staging_dir(Path(out_root))
    try:
        codec.save_model(staged, fitted.bundle.model)
        codec.save_reference(staged, fitted.bundle.reference)
        codec.save_scorer(staged, fitted.scorer, fitted.calibration)
        return publish(Path(out_root), staged, {**fitted.manifest_fields(), **(extra or {})}, make_current)
    except BaseException:
        remove_staging(staged)
        raise


def fit_artifact(
    X_normal: np.ndarray,
    out_root: Path,
    spec: TrainSpec = TrainSpec(),
    seed: int = 0,
    progress: bool | None = None,
    extra: dict[str, Any] | None = None,
    segments: Sequence[int] | None = None,
) -> Path:
    """Train on normal windows and publish a new artifact version under out_root; returns its directory.

    ``segments``: the lengths of the time-ordered runs X_normal stacks (for ``split: time``; None: one run).
    The manifest's spec records the split used ("seeded" when the spec left it unset)."""
    return publish_fitted(Path(out_root), fit_calibrated(X_normal, spec, seed, progress, segments), extra)
