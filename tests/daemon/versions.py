"""New artifact versions for the swap tests: a refresh (the current frozen model and scorer, a reference rebuilt
from other normal windows, the calibration scored against it, as ``latentwatch refresh`` makes one), one tampered
after publishing, one that verifies but cannot load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

MODEL_FILES = ("model.safetensors", "model.json", "scaler.safetensors")


def refreshed_version(root: Path, X: np.ndarray, seed: int = 1) -> str:
    """Publish a refresh of the current version beside it (``current`` unchanged); its version name. The first
    80 % of ``X`` (raw windows) become the reference, the rest the calibration."""
    from pipelines.artifact import codec
    from pipelines.artifact.store import publish, remove_staging, staging_dir
    from pipelines.online import OnlineModel
    from pipelines.reference.assets import score_against
    from pipelines.reference.build import build_reference

    model = OnlineModel.load_current(root)
    try:
        spec, cut = model.manifest["spec"], int(len(X) * 0.8)
        reference = build_reference(
            model.model,
            model.model.scaler.transform(X[:cut]),
            k=model.reference.k,
            n_trees=spec["n_trees"],
            seed=seed,
            dedup=spec["reference_dedup"],
        )
        calibration = score_against(model.model, reference, model.scorer, X[cut:])
        fields = {k: v for k, v in model.manifest.items() if k not in ("format", "version", "created_at", "files")}
        staged = staging_dir(root)
        try:
            for name in MODEL_FILES:
                shutil.copy2(Path(model.path) / name, staged / name)  # type: ignore[arg-type]
            codec.save_reference(staged, reference)
            codec.save_scorer(staged, model.scorer, calibration)
            return publish(root, staged, {**fields, "refreshed_from": model.version}, make_current=False).name
        except BaseException:
            remove_staging(staged)
            raise
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
