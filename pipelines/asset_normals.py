"""Build every asset's own normal from a data set's streams and publish it beside an artifact's model.

``head_windows`` picks each asset's normal span: for SKAB (the leaderboard protocol) the windows ending within the
first ``first_rows`` rows of each run, whatever their labels (those rows are the file's only fitting data); for a
tabular set the first ``first_rows`` windows of each group that are labelled normal. ``publish_asset_normals``
builds them with the artifact's own frozen model (optionally behind each asset's own input scaler), scorer and
reference settings (``build_asset_normal``) and
publishes a new version (``publish_assets``): no retraining; the model files are the base version's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.artifact.assets import publish_assets
from pipelines.model.scaler import Scaler
from pipelines.online import OnlineModel
from pipelines.reference.assets import AssetNormal, build_asset_normal
from pipelines.sources import WindowSpec, streams


def head_windows(source: str, data_dir: str | Path | None, spec: WindowSpec, first_rows: int) -> dict[str, np.ndarray]:
    """{asset: its normal windows [m, d] in time order} (see the module docstring)."""
    if first_rows < 1:
        raise ValueError(f"first_rows must be >= 1, got {first_rows}")
    out = {}
    for s in streams(source, data_dir, spec):
        if source == "skab":
            ends = np.arange(len(s.X)) * spec.stride + spec.length - 1
            X = s.X[ends < first_rows]
        else:
            X = s.X[:first_rows][np.asarray(s.y[:first_rows]) == 0]
        if len(X):
            out[s.asset] = np.asarray(X, dtype=np.float64)
    return out


def pool_by_key(windows: Mapping[str, np.ndarray], key_pattern: str | None) -> dict[str, np.ndarray]:
    """With a key pattern, the windows of all assets that share a key (the pattern's match at the name's start),
    in asset order; assets it does not match are left out. Without one, the windows as they are."""
    if not key_pattern:
        return dict(windows)
    rx, parts = re.compile(key_pattern), dict[str, list[np.ndarray]]()
    for asset, X in windows.items():
        m = rx.match(asset)
        if m:
            parts.setdefault(m.group(0), []).append(X)
    return {k: np.vstack(v) for k, v in parts.items()}


def build_normals(
    model: OnlineModel, windows: Mapping[str, np.ndarray], own_scaler: bool = False, **kw: Any
) -> dict[str, AssetNormal]:
    """{key: AssetNormal} with the artifact's frozen model, scorer, k, dedup and explanation groups; with
    ``own_scaler`` each asset reads its windows through a scaler fitted on them (the model's method and clip)."""
    spec = model.manifest.get("spec", {})
    base = {
        "k": model.reference.k,
        "seed": int(model.manifest.get("seed", 0)),
        "dedup": bool(spec.get("reference_dedup", True)),
        "groups": model.groups,
    }
    method, clip = spec.get("scaler", "zscore"), float(spec.get("clip", model.model.scaler.clip))
    then_range = spec.get("input_norm", "scaler") == "range"
    return {
        key: build_asset_normal(
            model.model,
            X,
            model.scorer,
            **{**base, **kw},
            scaler=Scaler.fit(X, clip=clip, method=method, then_range=then_range) if own_scaler else None,
        )
        for key, X in windows.items()
    }


def publish_asset_normals(
    root: Path,
    base: Path,
    windows: Mapping[str, np.ndarray],
    *,
    key_pattern: str | None = None,
    shards: int | None = None,
    replace_all: bool = False,
    make_current: bool = True,
    fields: Mapping[str, Any] | None = None,
    **kw: Any,
) -> Path:
    """Build the normals of ``windows`` ({asset: X}) with the model of ``base`` and publish them as a new version."""
    model = OnlineModel.load(base)
    try:
        normals = build_normals(model, pool_by_key(windows, key_pattern), **kw)
    finally:
        model.close()
    if not normals:
        raise ValueError(f"no asset windows to build from (key pattern {key_pattern!r} matched none)")
    return publish_assets(
        Path(root),
        Path(base),
        normals,
        shards=shards,
        key_pattern=key_pattern,
        replace_all=replace_all,
        fields=fields,
        make_current=make_current,
    )
