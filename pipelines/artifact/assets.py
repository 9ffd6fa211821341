"""The per-asset part of an artifact: reference shards beside the global reference, and publishing them.

Files (flat in the version directory, each listed with its sha256 in the manifest):
    assets.json                      {"format": 1, "shards": P, "key_pattern": regex | null,
                                      "files": {"assets-00007.safetensors": [key, ...], ...}}
    assets-<partition>.safetensors   the references and calibration scores of the keys that Kafka's default
                                     partitioner puts on that partition of P (``pipelines.reference.fleet``)

A shard is hashed when it is read (``OnlineModel.load`` checks every other file up front), from the same bytes
that are then parsed, and safetensors runs no code. An artifact without ``assets.json`` has no per-asset part and
loads as before. ``publish_assets`` makes a new version from an existing one without retraining: the model, scaler,
global reference and scorer are hard-linked (copied across file systems), only the shards whose keys changed are
rewritten, so a refresh of one asset rewrites one shard.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as load_np_bytes
from safetensors.numpy import save_file as save_np

from pipelines.artifact.store import MANIFEST, ArtifactError, publish, remove_staging, staging_dir, verify
from pipelines.reference.assets import AssetNormal
from pipelines.reference.fleet import AssetReferences, Shard, ShardItem, pack_shard
from pipelines.reference.partition import partition_of
from pipelines.reference.search import DEFAULT_EXACT_MAX

INDEX = "assets.json"
SHARD_PREFIX = "assets-"
INDEX_FORMAT = 1
DEFAULT_SHARDS = 64


def is_shard(name: str) -> bool:
    return name.startswith(SHARD_PREFIX) and name.endswith(".safetensors")


def shard_name(partition: int) -> str:
    return f"{SHARD_PREFIX}{partition:05d}.safetensors"


def read_index(d: Path) -> dict[str, Any] | None:
    p = Path(d) / INDEX
    if not p.is_file():
        return None
    try:
        doc = json.loads(p.read_text())
        if doc.get("format") != INDEX_FORMAT:
            raise ArtifactError(f"{p}: per-asset index format {doc.get('format')!r} is not {INDEX_FORMAT}")
        return {
            "shards": int(doc["shards"]),
            "key_pattern": doc.get("key_pattern"),
            "files": {str(k): [str(a) for a in v] for k, v in dict(doc["files"]).items()},
        }
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ArtifactError(f"{p} is malformed: {e}") from None


def _shard_loader(d: Path, digests: Mapping[str, str], keys: Mapping[str, list[str]]) -> Callable[[str], Shard]:
    """Read a shard's bytes once, check their sha256 against the manifest, then parse those same bytes."""

    def load(name: str) -> Shard:
        path = Path(d) / name
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != digests.get(name):
            raise ArtifactError(f"artifact file {path} fails its sha256 check (corrupt or tampered)")
        try:
            return Shard(keys=list(keys[name]), arrays=load_np_bytes(data))
        except (SafetensorError, KeyError, ValueError) as e:
            raise ArtifactError(f"per-asset shard {path} cannot be read: {e}") from None

    return load


def load_asset_references(d: Path, manifest: Mapping[str, Any], exact_max: int | None = None) -> AssetReferences | None:
    """The artifact's per-asset references (lazy, see ``pipelines.reference.fleet``), or None if it has none."""
    index = read_index(d)
    if index is None:
        return None
    files = dict(manifest.get("files", {}))
    if missing := sorted(set(index["files"]) - set(files)):
        raise ArtifactError(f"{Path(d) / INDEX} names shards the manifest does not list: {missing[:5]}")
    load = _shard_loader(Path(d), files, index["files"])
    return AssetReferences(
        index["files"],
        index["shards"],
        index["key_pattern"],
        load,
        exact_max=DEFAULT_EXACT_MAX if exact_max is None else exact_max,
    )


def _existing(base: Path, index: dict[str, Any] | None, names: set[str]) -> dict[str, dict[str, ShardItem]]:
    """The current contents of the shards that will be rewritten: {shard: {key: (reference, calibration)}}."""
    if index is None:
        return {}
    manifest = json.loads((base / MANIFEST).read_text())
    refs = load_asset_references(base, manifest)
    if refs is None:
        raise ArtifactError(f"{base / INDEX} disappeared while its shards were being rewritten")
    out: dict[str, dict[str, ShardItem]] = {}
    for name in names & set(index["files"]):
        out[name] = {k: (refs.reference(k), refs.calibration(k), refs.scaler(k)) for k in index["files"][name]}
    return out


def publish_assets(
    root: Path,
    base: Path,
    normals: Mapping[str, AssetNormal],
    *,
    shards: int | None = None,
    key_pattern: str | None = None,
    replace_all: bool = False,
    fields: Mapping[str, Any] | None = None,
    make_current: bool = True,
) -> Path:
    """Publish a new version of ``base`` whose per-asset part holds ``normals`` ({key: AssetNormal}).

    Keys already in ``base`` and not in ``normals`` are kept (unless ``replace_all``); ``shards`` and
    ``key_pattern`` default to base's (64 shards, no pattern, when base has no per-asset part)."""
    base = Path(base)
    manifest = verify(base, deferred=is_shard)
    index = read_index(base)
    if index is not None and shards is not None and shards != index["shards"] and not replace_all:
        raise ArtifactError(f"{base} has {index['shards']} asset shards; re-sharding to {shards} needs replace_all")
    n_shards = int(shards or (index["shards"] if index else DEFAULT_SHARDS))
    pattern = key_pattern if key_pattern is not None else (index["key_pattern"] if index else None)
    old_files = {} if (index is None or replace_all) else dict(index["files"])
    changed: dict[str, dict[str, ShardItem]] = {}
    for key, normal in normals.items():
        changed.setdefault(shard_name(partition_of(key, n_shards)), {})[key] = (
            normal.reference,
            normal.calibration,
            normal.scaler,
        )
    merged = _existing(base, None if replace_all else index, set(changed))
    for name, items in changed.items():
        merged.setdefault(name, {}).update(items)
    staged = staging_dir(Path(root))
    try:
        for p in base.iterdir():
            if p.name in (MANIFEST, INDEX) or (is_shard(p.name) and (replace_all or p.name in merged)):
                continue
            _link_or_copy(p, staged / p.name)
        for name, items in merged.items():
            save_np({k: np.ascontiguousarray(v) for k, v in pack_shard(items).items()}, str(staged / name))
            old_files[name] = list(items)
        doc = {"format": INDEX_FORMAT, "shards": n_shards, "key_pattern": pattern, "files": old_files}
        (staged / INDEX).write_text(json.dumps(doc, sort_keys=True))
        keep = {k: v for k, v in manifest.items() if k not in ("format", "version", "created_at", "files")}
        n_keys = sum(len(v) for v in old_files.values())
        keep.update(
            {
                "base_version": manifest["version"],
                "assets": {"keys": n_keys, "shards": n_shards, "key_pattern": pattern},
                **(fields or {}),
            }
        )
        return publish(Path(root), staged, keep, make_current=make_current)
    except BaseException:
        remove_staging(staged)
        raise


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
