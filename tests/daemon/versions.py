"""New artifact versions for the swap tests: a refresh (the current frozen model and scorer, a reference rebuilt
from other normal windows, the calibration scored against it, written by the refresh job's own code), one tampered
after publishing, one that verifies but cannot load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np


def refreshed_version(root: Path, X: np.ndarray, seed: int = 1) -> str:
    """Publish a refresh of the current version beside it (``current`` unchanged) as ``latentwatch refresh`` writes
    one (``pipelines.refresh.rebuild``: the same frozen model and scorer, a reference and calibration rebuilt from
    the raw windows ``X``); its version name."""
    from pipelines.online import OnlineModel
    from pipelines.refresh.rebuild import rebuild, write_version

    model = OnlineModel.load_current(root)
    try:
        rebuilt, _ = rebuild(model, X, np.array(["asset-0"] * len(X)), holdout_fraction=0.1, seed=seed)
        return write_version(root, model, rebuilt, {"refreshed_from": model.version}).name
    finally:
        model.close()


def point_current_at(root: Path, version: str) -> None:
    """Write ``current.json`` for ``version`` as ``set_current`` does, without verifying its files first (what a
    pointer to a version tampered with after it was published looks like)."""
    from pipelines.artifact.store import POINTER, atomic_write, sha256_file

    digest = sha256_file(root / "versions" / version / "manifest.json")
    atomic_write(root / POINTER, json.dumps({"version": version, "manifest_sha256": digest}).encode())


def tampered_version(root: Path, version: str) -> str:
    """A copy of ``version`` published as a new one, then one byte of its reference changed on disk."""
    name = _published_copy(root, version)
    victim = root / "versions" / name / "reference.safetensors"
    victim.write_bytes(victim.read_bytes() + b"x")
    return name


def unloadable_version(root: Path, version: str) -> str:
    """A copy of ``version`` whose weights are not a safetensors file, published with their hashes: it verifies
    and then fails to load."""
    return _published_copy(root, version, garbage="model.safetensors")


def _published_copy(root: Path, version: str, garbage: str | None = None) -> str:
    from pipelines.artifact.store import publish, staging_dir

    src = root / "versions" / version
    manifest = json.loads((src / "manifest.json").read_text())
    staged = staging_dir(root)
    for p in src.iterdir():
        if p.name != "manifest.json":
            shutil.copy2(p, staged / p.name)
    if garbage is not None:
        (staged / garbage).write_bytes(b"not a safetensors file")
    fields = {k: v for k, v in manifest.items() if k not in ("format", "version", "created_at", "files")}
    return publish(root, staged, {**fields, "copied_from": version}, make_current=False).name
