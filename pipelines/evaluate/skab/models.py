"""The models of SKAB's two latentwatch rows, each ending as ``pipelines.online.OnlineModel`` per asset.

The autoencoder is of the settings' training variant (``SkabSettings.variant``: the plain one by default; lfr, vae,
deae, ... train their own losses and parts, which the variant's scorers read).

(a) leaderboard: per file, scaler + autoencoder + reference + calibration from the windows of its first 400 rows.
(b) deployment: one scaler + autoencoder trained on anomaly-free.csv only; each asset's own reference and
    calibration from the windows of its first 400 rows, with that frozen model.
Validation (early stopping, the scorer's normalisation) is the last 20 % of the training windows in time order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from pipelines.batch_encoding import encode_batch, neighbours_needed
from pipelines.evaluate.skab.drift import channel_slowness, channel_trend, drift_guard, level_features
from pipelines.evaluate.skab.settings import SkabSettings
from pipelines.model.autoencoder import AESpec
from pipelines.model.frozen import FrozenModel
from pipelines.model.scaler import Scaler
from pipelines.model.training import TrainParams, train_autoencoder
from pipelines.model.variants import Variant
from pipelines.model.variants import make_variant as _make_variant
from pipelines.online import OnlineModel
from pipelines.reference.assets import AssetNormal, build_asset_normal
from pipelines.reference.build import build_reference
from pipelines.scorers import Scorer, make_scorer

VAL_FRACTION = 0.2


def time_split(n: int) -> tuple[np.ndarray, np.ndarray]:
    cut = n - max(1, int(round(n * VAL_FRACTION)))
    return np.arange(cut), np.arange(cut, n)


def ignored_features(fit_rows: np.ndarray | None, s: SkabSettings) -> np.ndarray:
    """Level features of the channels always dropped and, given the fit rows, of those that drift through them."""
    n_channels = int(fit_rows.shape[1]) if fit_rows is not None else 8
    channels = set(s.drop_channels)
    if fit_rows is not None and s.drift_tau is not None:
        channels |= set(np.flatnonzero(channel_trend(fit_rows) > s.drift_tau).tolist())
    if fit_rows is not None and s.slow_below is not None:
        channels |= set(np.flatnonzero(channel_slowness(fit_rows) < s.slow_below).tolist())
    return level_features(np.array(sorted(channels), dtype=np.int64), n_channels, s.length, s.mode)


def fit_scaler(X: np.ndarray, s: SkabSettings, ignored: np.ndarray | None = None) -> Scaler:
    scaler = Scaler.fit(X, method=s.scaler)
    return drift_guard(scaler, ignored) if ignored is not None and len(ignored) else scaler


def make_variant(s: SkabSettings) -> Variant:
    """The settings' training variant, checked against their latent size (a clear error before any training)."""
    try:
        variant = _make_variant(s.variant, **s.variant_params)
        variant.check(s.latent)
    except ValueError as e:
        raise ValueError(f"SKAB settings: {e}") from None
    return variant


def train_model(X: np.ndarray, s: SkabSettings, ignored: np.ndarray | None = None) -> FrozenModel:
    """Scaler and autoencoder (of the settings' training variant) on time-ordered windows X (early stopping on the
    last 20 %)."""
    tr, va = time_split(len(X))
    scaler = fit_scaler(X, s, ignored)
    spec = AESpec(input_dim=X.shape[1], hidden=tuple(s.hidden), latent=s.latent)
    params = TrainParams(epochs=s.epochs, patience=s.patience, batch_size=s.batch_size, device="cpu")
    Xs = scaler.transform(X)
    variant = make_variant(s)
    result = train_autoencoder(Xs[tr], Xs[va], spec, params, seed=s.seed, progress=False, variant=variant)
    return FrozenModel(scaler=scaler, ae=result.model, variant=variant, parts=result.parts)


def fitted_scorer(model: FrozenModel, X: np.ndarray, s: SkabSettings) -> Scorer:
    """The scorer, its normalisation fitted on the validation part of X against a reference of the rest."""
    scorer = make_scorer(s.scorer, **s.scorer_params)
    tr, va = time_split(len(X))
    ref = build_reference(model, model.scaler.transform(X[tr]), k=s.k, n_trees=10, seed=s.seed)
    try:
        enc = encode_batch(model, ref, X[va], neighbours_needed(ref, scorer))
        scorer.fit(enc, ref, model.decode)
    finally:
        ref.index.close()
    return scorer


def asset_model(
    model: FrozenModel, scorer: Scorer, X_normal: np.ndarray, s: SkabSettings, name: str, version: str
) -> OnlineModel:
    """An asset's OnlineModel: the frozen model with the asset's own reference and calibration scores."""
    normal = build_asset_normal(
        model, X_normal, scorer, k=s.k, seed=s.seed, calibration=s.calibration, folds=s.folds, gap=s.length - 1
    )
    return OnlineModel(
        Path(f"skab/{name}"), {"version": version, "asset": name}, model, normal.reference, scorer, normal.calibration
    )


def leaderboard_model(X_fit: np.ndarray, s: SkabSettings, name: str, fit_rows: np.ndarray | None = None) -> OnlineModel:
    """Row (a): everything from this file's fit windows (and its fit rows, for the drift rule)."""
    torch.manual_seed(s.seed)
    model = train_model(X_fit, s, ignored_features(fit_rows, s))
    return asset_model(model, fitted_scorer(model, X_fit, s), X_fit, s, name, f"per-file/{name}")


def deployment_asset(
    base: FrozenModel, scorer: Scorer, X_fit: np.ndarray, fit_rows: np.ndarray, s: SkabSettings, name: str
) -> OnlineModel:
    """Row (b), one asset: the frozen autoencoder behind the asset's own input scaler (fitted on its fit windows,
    with the same drift rule), its own reference and calibration. Why a scaler per asset: SKAB's valve runs sit
    40-60 anomaly-free standard deviations away from anomaly-free.csv on four channels, so through the global scaler
    every window of them clips and no score separates a fault (AUROC 0.50 on valve1)."""
    normal = deployment_normal(base, scorer, X_fit, fit_rows, s)
    if normal.scaler is None:
        raise RuntimeError(f"{name}: the asset normal came back without the asset's own scaler")
    return OnlineModel(
        Path(f"skab/{name}"),
        {"version": "anomaly-free", "asset": name},
        base.with_scaler(normal.scaler),
        normal.reference,
        scorer,
        normal.calibration,
    )


def deployment_normal(
    base: FrozenModel,
    scorer: Scorer,
    X_fit: np.ndarray,
    fit_rows: np.ndarray,
    s: SkabSettings,
    groups: np.ndarray | None = None,
) -> AssetNormal:
    """Row (b)'s per-asset part: the asset's own scaler, reference and calibration scores, as the artifact stores
    them (``latentwatch demo`` publishes exactly these)."""
    return build_asset_normal(
        base,
        X_fit,
        scorer,
        k=s.k,
        seed=s.seed,
        calibration=s.calibration,
        folds=s.folds,
        gap=s.length - 1,
        groups=groups,
        scaler=fit_scaler(X_fit, s, ignored_features(fit_rows, s)),
    )


def deployment_base(
    X_free: np.ndarray, s: SkabSettings, free_rows: np.ndarray | None = None
) -> tuple[FrozenModel, Scorer]:
    """Row (b): the one frozen model and scorer, from anomaly-free windows (and rows, for the drift rule) only."""
    torch.manual_seed(s.seed)
    model = train_model(X_free, s, ignored_features(free_rows, s))
    return model, fitted_scorer(model, X_free, s)
