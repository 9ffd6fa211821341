"""Versioned, immutable artifact directories and the atomically swapped `current` pointer.

Layout under a root:
    versions/<version>/        model, scaler, reference, scorer, calibration, manifest.json
    current.json               {"version": ..., "manifest_sha256": ...}, replaced by rename

The manifest lists the sha256 of every file; the pointer holds the sha256 of the manifest itself, so editing a file
and its manifest entry together is still caught when loading through the pointer.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
POINTER = "current.json"
FORMAT = 1


class ArtifactError(Exception):
    """An artifact that is missing, incomplete, tampered or of a format this code does not read."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def staging_dir(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=root, prefix=".staging-"))


def publish(root: Path, staged: Path, fields: dict[str, Any], make_current: bool = True) -> Path:
    """Seal a staged directory: hash its files, write the manifest, move it under versions/, swap the pointer."""
    root, staged = Path(root), Path(staged)
    files = {p.name: sha256_file(p) for p in sorted(staged.iterdir()) if p.is_file() and p.name != MANIFEST}
    fingerprint = (
        str(fields.get("data_fingerprint", ""))[:8]
        or hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:8]
    )
    version = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + f"-{fingerprint}"
    versions = root / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    n = 0
    while (versions / (version + (f".{n}" if n else ""))).exists():
        n += 1
    version += f".{n}" if n else ""
    manifest = {
        "format": FORMAT,
        "version": version,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **fields,
        "files": files,
    }
    body = json.dumps(manifest, indent=2, sort_keys=True).encode()
    (staged / MANIFEST).write_bytes(body)
    for p in staged.iterdir():
        with open(p, "rb") as f:
            os.fsync(f.fileno())
    final = versions / version
    os.rename(staged, final)
    _fsync_dir(versions)
    if make_current:
        set_current(root, version)
    return final


_VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,199}")


def version_dir(root: Path, version: str) -> Path:
    """``root/versions/<version>`` for a plain version name; anything that could leave that folder (``..``, a
    separator, an absolute path, a NUL) is refused before a path is built from it."""
    if not isinstance(version, str) or not _VERSION_NAME.fullmatch(version) or version.strip(".") == "":
        raise ArtifactError(f"{version!r} is not a plain version name (letters, digits, '.', '_', '+', '-'; no path)")
    versions = Path(root) / "versions"
    path = versions / version
    if path.resolve().parent != versions.resolve():  # a symlinked version folder pointing elsewhere
        raise ArtifactError(f"version {version!r} resolves outside {versions}")
    return path


def set_current(root: Path, version: str) -> Path:
    """Point `current` at an existing, verified version (publish and rollback both end here)."""
    path = version_dir(root, version)
    verify(path)
    pointer = {"version": version, "manifest_sha256": sha256_file(path / MANIFEST)}
    atomic_write(Path(root) / POINTER, json.dumps(pointer, sort_keys=True).encode())
    return path


def read_pointer(root: Path) -> dict[str, str]:
    p = Path(root) / POINTER
    try:
        pointer = json.loads(p.read_text())
        out = {"version": str(pointer["version"]), "manifest_sha256": str(pointer["manifest_sha256"])}
    except FileNotFoundError:
        raise ArtifactError(f"no current artifact: {p} does not exist (train or publish one first)") from None
    except (ValueError, KeyError, TypeError) as e:
        raise ArtifactError(f"current pointer {p} is malformed: {e}") from None
    version_dir(root, out["version"])
    return out


def resolve_current(root: Path) -> Path:
    """The version folder the pointer names, once its name is plain and its manifest hashes to the pointer's
    ``manifest_sha256`` (a file edited together with its manifest entry changes the manifest's hash); the files
    are checked against the manifest when they are loaded (``verify``)."""
    pointer = read_pointer(root)
    path = version_dir(root, pointer["version"])
    mpath = path / MANIFEST
    try:
        digest = sha256_file(mpath)
    except OSError as e:
        raise ArtifactError(f"current points to {pointer['version']!r}, but {mpath} cannot be read: {e}") from None
    if digest != pointer["manifest_sha256"]:
        raise ArtifactError(f"{mpath} does not match the sha256 recorded in the current pointer (tampered?)")
    return path


def list_versions(root: Path) -> list[str]:
    d = Path(root) / "versions"
    return sorted(p.name for p in d.iterdir() if p.is_dir()) if d.exists() else []


def verify(
    path: Path, manifest_sha256: str | None = None, deferred: Callable[[str], bool] | None = None
) -> dict[str, Any]:
    """Check every file against the manifest before anything is loaded; return the manifest.

    Files for which ``deferred(name)`` is true (per-asset reference shards, read only when an asset needs them) are
    checked for presence here and hashed by ``check_file`` when they are read."""
    path = Path(path)
    mpath = path / MANIFEST
    if not mpath.is_file():
        raise ArtifactError(f"{path} is not an artifact: {MANIFEST} is missing")
    if manifest_sha256 is not None and sha256_file(mpath) != manifest_sha256:
        raise ArtifactError(f"{mpath} does not match the sha256 recorded in the current pointer (tampered?)")
    try:
        manifest: dict[str, Any] = json.loads(mpath.read_text())
        files = dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as e:
        raise ArtifactError(f"{mpath} is malformed: {e}") from None
    if manifest.get("format") != FORMAT:
        raise ArtifactError(f"{mpath}: artifact format {manifest.get('format')!r} is not {FORMAT}")
    present = {p.name for p in path.iterdir() if p.is_file() and p.name != MANIFEST}
    if missing := sorted(set(files) - present):
        raise ArtifactError(f"artifact {path} is incomplete: missing {missing}")
    if extra := sorted(present - set(files)):
        raise ArtifactError(f"artifact {path} holds files its manifest does not list: {extra}")
    for name, digest in files.items():
        if deferred is None or not deferred(name):
            check_file(path, name, digest)
    return manifest


def check_file(path: Path, name: str, digest: str) -> None:
    if sha256_file(Path(path) / name) != digest:
        raise ArtifactError(f"artifact file {Path(path) / name} fails its sha256 check (corrupt or tampered)")


def remove_staging(staged: Path) -> None:
    shutil.rmtree(staged, ignore_errors=True)


def read_manifest(root: Path, version: str) -> dict[str, Any]:
    """A version's manifest as written (not checked against its files; ``verify`` does that)."""
    path = version_dir(root, version) / MANIFEST
    try:
        doc: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise ArtifactError(f"no version {version!r} under {Path(root) / 'versions'}") from None
    except ValueError as e:
        raise ArtifactError(f"{path} is malformed: {e}") from None
    return doc


def by_creation(root: Path) -> list[str]:
    """Every version, oldest first: by the manifest's ``created_at`` (whole seconds), then by the time its manifest
    was written (ns), then by name. A version whose manifest cannot be read sorts first."""

    def key(v: str) -> tuple[str, int, str]:
        try:
            created = str(read_manifest(root, v).get("created_at", ""))
            return created, (version_dir(root, v) / MANIFEST).stat().st_mtime_ns, v
        except (ArtifactError, OSError):
            return "", 0, v

    return sorted(list_versions(root), key=key)


def current_version(root: Path) -> str | None:
    """The version current.json names, or None when there is no pointer."""
    try:
        return read_pointer(root)["version"]
    except ArtifactError:
        if (Path(root) / POINTER).exists():
            raise
        return None


def previous_version(root: Path, version: str | None = None) -> str:
    """The version created just before ``version`` (default: the current one)."""
    version = version or current_version(root)
    order = by_creation(root)
    if version not in order:
        raise ArtifactError(f"no version {version!r} under {Path(root) / 'versions'}")
    i = order.index(version)
    if i == 0:
        raise ArtifactError(f"{version} is the oldest version under {Path(root) / 'versions'}: nothing to roll back to")
    return order[i - 1]


def rollback(root: Path, version: str | None = None) -> tuple[str | None, str]:
    """Point current at ``version`` (default: the one created before the current); it is verified first, so a
    tampered version is refused and current stays. Returns (old current, new current)."""
    old = current_version(root)
    target = version or previous_version(root)
    set_current(root, target)
    return old, target


def prune(root: Path, keep: int, protect: tuple[str | None, ...] = ()) -> list[str]:
    """Remove all but the ``keep`` newest versions (by creation); the current version and those in ``protect``
    are never removed. Returns the removed versions, oldest first."""
    if keep < 1:
        raise ValueError(f"keep must be >= 1, got {keep}")
    safe = {current_version(root), *protect} - {None}
    order = by_creation(root)
    newest = set(order[-keep:])
    removed = [v for v in order if v not in newest and v not in safe]
    for v in removed:
        shutil.rmtree(version_dir(root, v))
    if removed:
        _fsync_dir(Path(root) / "versions")
    return removed
