"""Keeping, pruning and rolling back versions (pipelines/artifact/store.py)."""

from __future__ import annotations

import json
import os

import pytest

from pipelines.artifact.store import (
    ArtifactError,
    by_creation,
    list_versions,
    previous_version,
    prune,
    publish,
    read_pointer,
    rollback,
    staging_dir,
)


def _publish(root, n, current=True):
    staged = staging_dir(root)
    (staged / "data.bin").write_bytes(os.urandom(16))
    return publish(root, staged, {"n": n}, make_current=current).name


@pytest.fixture
def root(tmp_path):
    names = [_publish(tmp_path, i) for i in range(4)]
    return tmp_path, names


def test_versions_are_ordered_by_creation(root):
    path, names = root
    assert by_creation(path) == names and previous_version(path) == names[2]


def test_prune_keeps_the_newest_and_never_the_current(root):
    path, names = root
    rollback(path, names[0])
    assert prune(path, keep=2) == names[1:2]
    assert list_versions(path) == sorted([names[0], names[2], names[3]])
    assert prune(path, keep=1, protect=(names[2],)) == []
    assert read_pointer(path)["version"] == names[0]
    with pytest.raises(ValueError, match="keep must be >= 1"):
        prune(path, keep=0)


def test_rollback_goes_to_the_previous_version_and_refuses_a_tampered_one(root):
    path, names = root
    assert rollback(path) == (names[3], names[2])
    assert read_pointer(path)["version"] == names[2]
    (path / "versions" / names[1] / "data.bin").write_bytes(b"tampered")
    pointer = (path / "current.json").read_bytes()
    with pytest.raises(ArtifactError, match="sha256"):
        rollback(path)
    assert (path / "current.json").read_bytes() == pointer
    with pytest.raises(ArtifactError, match="oldest"):
        previous_version(path, names[0])
    assert json.loads(pointer)["version"] == names[2]
