from __future__ import annotations

from pathlib import Path

import pytest

from daemon.model_holder import ModelHolder
from tests.daemon.helpers import StandInModel


class Store:
    """A `current` pointer and the models its versions load as (a path in `broken` fails to load)."""

    def __init__(self):
        self.current = Path("/a/versions/v1")
        self.broken: set[Path] = set()
        self.loads: list[Path] = []

    def resolve(self, root):
        return self.current

    def load(self, path):
        self.loads.append(path)
        if path in self.broken:
            raise ValueError("sha256 mismatch")
        return StandInModel(version=path.name, dim=8 if path.name != "v-wide" else 9)


class Clock:
    t = 0.0

    def __call__(self):
        return self.t


def holder(store, clock, pinned=None):
    swaps = []
    h = ModelHolder(
        Path("/a"),
        pinned,
        10.0,
        loader=store.load,
        resolver=store.resolve,
        clock=clock,
        on_swap=lambda old, new: swaps.append(new.version if new else None),
    )
    return h, swaps


def test_swaps_to_a_new_current_only_when_the_interval_passed():
    store, clock = Store(), Clock()
    h, swaps = holder(store, clock)
    assert h.load_initial().version == "v1" and h().version == "v1"
    store.current = Path("/a/versions/v2")
    clock.t = 5
    assert not h.maybe_swap() and h().version == "v1"
    clock.t = 10
    assert h.maybe_swap() and h().version == "v2" and swaps == ["v2"]
    clock.t = 20
    assert not h.maybe_swap() and store.loads.count(Path("/a/versions/v2")) == 1


def test_a_version_that_fails_to_load_keeps_the_old_model_and_is_not_retried():
    store, clock = Store(), Clock()
    h, swaps = holder(store, clock)
    h.load_initial()
    store.current = Path("/a/versions/v3")
    store.broken.add(store.current)
    assert not h.maybe_swap(force=True)
    assert h().version == "v1" and swaps == [None]
    assert not h.maybe_swap(force=True) and store.loads.count(store.current) == 1


def test_a_different_input_width_is_refused():
    store, clock = Store(), Clock()
    h, _ = holder(store, clock)
    h.load_initial()
    store.current = Path("/a/versions/v-wide")
    assert not h.maybe_swap(force=True) and h().version == "v1"


def test_unreadable_pointer_keeps_the_model():
    store, clock = Store(), Clock()
    h, _ = holder(store, clock)
    h.load_initial()

    def gone(root):
        raise FileNotFoundError("current.json")

    h.resolver = gone
    assert not h.maybe_swap(force=True) and h().version == "v1"


def test_pinned_path_never_swaps():
    store, clock = Store(), Clock()
    h, _ = holder(store, clock, pinned=Path("/b/versions/pinned"))
    assert h.load_initial().version == "pinned"
    store.current = Path("/a/versions/v2")
    assert not h.maybe_swap(force=True)


def test_no_model_at_start_raises():
    store, clock = Store(), Clock()
    store.broken.add(store.current)
    h, _ = holder(store, clock)
    with pytest.raises(ValueError):
        h.load_initial()


def test_the_real_artifact_store_swaps_and_refuses_a_tampered_version(artifact_root, tmp_path):
    import shutil

    from pipelines.artifact.store import resolve_current, set_current

    root = tmp_path / "artifacts"
    shutil.copytree(artifact_root, root)
    h = ModelHolder(root, None, 0.001)
    first = h.load_initial()
    v1 = resolve_current(root)
    v2 = root / "versions" / "v2-copy"
    shutil.copytree(v1, v2)
    import json

    manifest = json.loads((v2 / "manifest.json").read_text())
    manifest["version"] = "v2-copy"
    (v2 / "manifest.json").write_text(json.dumps(manifest))
    set_current(root, "v2-copy")
    assert h.maybe_swap(force=True) and h().version == "v2-copy"
    v3 = root / "versions" / "v3-bad"
    shutil.copytree(v2, v3)
    manifest["version"] = "v3-bad"
    (v3 / "manifest.json").write_text(json.dumps(manifest))
    set_current(root, "v3-bad")
    victim = next(p for p in sorted(v3.iterdir()) if p.name != "manifest.json")
    victim.write_bytes(victim.read_bytes() + b"tampered")
    assert not h.maybe_swap(force=True)
    assert h().version == "v2-copy" and first.version != "v2-copy"


def _copy_version(root, src, name):
    import json
    import shutil

    dst = root / "versions" / name
    shutil.copytree(src, dst)
    manifest = json.loads((dst / "manifest.json").read_text())
    manifest["version"] = name
    (dst / "manifest.json").write_text(json.dumps(manifest))
    return dst, manifest


def test_a_file_edited_together_with_its_manifest_entry_is_refused_by_the_pointer_hash(artifact_root, tmp_path):
    """Every file matches the (edited) manifest; only current.json's manifest_sha256 tells it was swapped."""
    import hashlib
    import json
    import shutil

    from pipelines.artifact.store import ArtifactError, resolve_current, set_current

    root = tmp_path / "artifacts"
    shutil.copytree(artifact_root, root)
    v2, manifest = _copy_version(root, resolve_current(root), "v2")
    set_current(root, "v2")
    h = ModelHolder(root, None, 0.001)
    assert h.load_initial().version == "v2"
    v3, manifest = _copy_version(root, v2, "v3")
    set_current(root, "v3")
    victim = next(p for p in sorted(v3.iterdir()) if p.name.startswith("calibration"))
    victim.write_bytes(victim.read_bytes() + b"x")
    manifest["files"][victim.name] = hashlib.sha256(victim.read_bytes()).hexdigest()
    (v3 / "manifest.json").write_text(json.dumps(manifest))  # after set_current: the pointer's hash is stale
    assert not h.maybe_swap(force=True) and h().version == "v2"
    with pytest.raises(ArtifactError, match="sha256 recorded in the current pointer"):
        ModelHolder(root, None, 0.001).load_initial()  # and a daemon starting now refuses it (exit 2)


@pytest.mark.parametrize("version", ["../../outside_version", "..", ".", "a/b", "/abs", "", "v1\x00"])
def test_a_pointer_to_a_version_outside_the_root_is_refused(artifact_root, tmp_path, version):
    import json
    import shutil

    from pipelines.artifact.store import ArtifactError, resolve_current, sha256_file

    root = tmp_path / "root" / "artifacts"
    shutil.copytree(artifact_root, root)
    outside = tmp_path / "outside_version"  # a valid artifact, but not one of the root's versions
    shutil.copytree(resolve_current(root), outside)
    (root / "current.json").write_text(
        json.dumps({"version": version, "manifest_sha256": sha256_file(outside / "manifest.json")})
    )
    with pytest.raises(ArtifactError, match="not a plain version name"):
        ModelHolder(root, None, 0.001).load_initial()
