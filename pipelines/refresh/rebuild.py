"""Rebuild the references of the current version from the selected windows, with its frozen model, and write the
result as a new (not yet current) version.

The selected windows, in time order, are cut into three consecutive parts: the reference part, the calibration part
(the spec's ``val_fraction`` of what the holdout leaves; its scores against the new global reference are the new
calibration, SPOT's starting point, as training calibrates) and the holdout (the last ``holdout_fraction``, in no
reference: it validates, ``pipelines/refresh/validate.py``). The spec's ``split_gap`` windows are left out between
parts, so overlapping windows never sit on both sides. The global reference is built with the settings the version
was trained with (k, trees, dedup, exact search bound, explanation groups); each per-asset key the version holds is
rebuilt from its windows of the reference and calibration parts by ``pipelines.asset_normals.build_normals`` (with
its own scaler if it had one); a key with too few windows keeps its current normal. The scorer (its normalisation
included) and the model files are carried over unchanged.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.artifact import codec
from pipelines.artifact.assets import INDEX, is_shard, publish_assets
from pipelines.artifact.store import publish, remove_staging, staging_dir, version_dir
from pipelines.asset_normals import build_normals
from pipelines.fit import TrainSpec
from pipelines.online import OnlineModel
from pipelines.reference.assets import score_against
from pipelines.reference.build import build_reference
from pipelines.refresh.scoring import Rebuilt, reference_keys

MODEL_FILES = ("model.safetensors", "model.json", "scaler.safetensors")


def split_rows(n: int, holdout_fraction: float, val_fraction: float, gap: int = 0) -> tuple[slice, slice, slice]:
    """(reference, calibration, holdout) rows of n time-ordered windows (see the module docstring), as slices so
    that the parts are views, not copies, of a million windows."""
    n_hold = max(1, int(round(n * holdout_fraction)))
    rest = n - n_hold - gap
    n_cal = max(1, int(round(rest * val_fraction)))
    n_ref = rest - n_cal - gap
    if n_ref < 2:
        raise ValueError(f"{n} selected windows are too few to split into reference, calibration and holdout")
    return slice(0, n_ref), slice(n_ref + gap, n_ref + gap + n_cal), slice(n - n_hold, n)


def scaled(model: OnlineModel, X: np.ndarray, chunk: int = 65_536) -> np.ndarray:
    """The model's scaler applied chunk by chunk into float32 (what the reference is built from): no float64
    copy of all the windows."""
    out = np.empty(X.shape, dtype=np.float32)
    for s in range(0, len(X), chunk):
        out[s : s + chunk] = model.model.scaler.transform(X[s : s + chunk])
    return out


def spec_of(model: OnlineModel) -> TrainSpec:
    return TrainSpec.from_dict(dict(model.manifest.get("spec") or {}))


def rebuild(
    model: OnlineModel, X: np.ndarray, assets: np.ndarray, holdout_fraction: float, seed: int
) -> tuple[Rebuilt, slice]:
    """The rebuilt references and the holdout's rows; X [n, d] raw, time order, assets [n]."""
    if X.ndim != 2 or X.shape[1] != model.dim:
        raise ValueError(f"windows of width {X.shape[1] if X.ndim == 2 else X.shape} for a model of width {model.dim}")
    spec = spec_of(model)
    ref_rows, cal_rows, hold = split_rows(len(X), holdout_fraction, spec.val_fraction, spec.split_gap)
    old = model.reference
    reference = build_reference(
        model.model,
        scaled(model, X[ref_rows]),
        k=old.k,
        n_trees=spec.n_trees,
        seed=seed,
        exact_max=spec.exact_max,
        search_k=spec.search_k,
        dedup=spec.reference_dedup,
        groups=old.err_groups,
    )
    calibration = score_against(model.model, reference, model.scorer, X[cal_rows])
    rebuilt = Rebuilt(
        reference,
        calibration,
        reference_rows=ref_rows.stop - ref_rows.start,
        calibration_rows=cal_rows.stop - cal_rows.start,
    )
    if model.assets is not None:
        fit_rows = np.r_[ref_rows, cal_rows]
        rebuilt.normals = asset_normals(model, X[fit_rows], assets[fit_rows], seed)
    return rebuilt, hold


def asset_normals(model: OnlineModel, X: np.ndarray, assets: np.ndarray, seed: int) -> dict[str, Any]:
    """{key: AssetNormal} for the per-asset keys that have enough windows; the others are left out (kept)."""
    if model.assets is None:
        return {}
    keys = reference_keys(model, assets)
    gap = spec_of(model).split_gap
    out: dict[str, Any] = {}
    for key in sorted({k for k in keys.tolist() if k is not None}):
        own = model.assets.scaler(key) is not None
        try:
            out.update(build_normals(model, {key: X[keys == key]}, own_scaler=own, gap=gap, seed=seed))
        except ValueError:
            continue  # too few windows for its reference and calibration: the key keeps its current normal
    return out


def write_version(root: Path, model: OnlineModel, rebuilt: Rebuilt, fields: Mapping[str, Any]) -> Path:
    """Publish the rebuilt references as a new version beside the current one, without pointing current at it.

    The model files are hard-linked from the current version (same bytes, same sha256); the per-asset part is
    linked too and then has its rebuilt keys rewritten by ``publish_assets`` (which publishes a second version from
    the first; the first is removed)."""
    if model.path is None:
        raise ValueError("the current model has no version directory to refresh from")
    src = Path(model.path)
    keep = {k: v for k, v in model.manifest.items() if k not in ("format", "version", "created_at", "files")}
    keep.update(fields)
    staged = staging_dir(Path(root))
    try:
        for name in MODEL_FILES:
            _link_or_copy(src / name, staged / name)
        codec.save_reference(staged, rebuilt.reference)
        codec.save_scorer(staged, model.scorer, rebuilt.calibration)
        for p in src.iterdir():
            if p.name == INDEX or is_shard(p.name):
                _link_or_copy(p, staged / p.name)
        first = publish(Path(root), staged, keep, make_current=False)
    except BaseException:
        remove_staging(staged)
        raise
    if not rebuilt.normals:
        return first
    try:
        return publish_assets(
            Path(root), first, rebuilt.normals, fields={**fields, "base_version": model.version}, make_current=False
        )
    finally:
        shutil.rmtree(version_dir(Path(root), first.name), ignore_errors=True)


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        dst.hardlink_to(src)
    except OSError:
        shutil.copy2(src, dst)
