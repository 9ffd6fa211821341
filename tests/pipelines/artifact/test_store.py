import hashlib
import json
import pickle

import numpy as np
import pytest

from pipelines.artifact import store
from pipelines.artifact.store import ArtifactError
from pipelines.fit import TrainSpec, fit_artifact
from pipelines.online import OnlineModel


@pytest.fixture(scope="module")
def published(tmp_path_factory, snsr_split):
    X_train, X_val, _, _ = snsr_split
    root = tmp_path_factory.mktemp("artifacts")
    spec = TrainSpec(hidden=(16,), latent=4, epochs=10, n_trees=5, scorer="ares")  # its components are checked
    path = fit_artifact(np.vstack([X_train, X_val]), root, spec, seed=0, progress=False)
    return root, path


def _copy(published, tmp_path):
    import shutil

    root, path = published
    new_root = tmp_path / "root"
    shutil.copytree(root, new_root)
    return new_root, new_root / "versions" / path.name


def test_publish_seals_every_file_and_points_current(published):
    root, path = published
    manifest = store.verify(path)
    assert set(manifest["files"]) == {p.name for p in path.iterdir()} - {"manifest.json"}
    assert store.resolve_current(root) == path
    assert manifest["version"] == path.name and len(manifest["data_fingerprint"]) == 64
    m = OnlineModel.load_current(root)
    assert m.version == path.name and m.dim == 48


def test_loaded_model_scores_with_reference_window_ids(published, snsr_split):
    m = OnlineModel.load_current(published[0])
    out = m.score(snsr_split[2][:7])
    assert out.score.shape == (7,) and out.neighbours.shape == (7, 10)
    assert set(out.components) >= {"recon_error", "local_recon", "lof"}
    assert np.isin(out.neighbours, m.reference.window_ids).all()
    assert len(m.calibration) == m.manifest["metrics"]["val_rows"]


def test_close_stops_the_search_threads_and_scoring_restarts_them(published, snsr_split):
    m = OnlineModel.load(published[1], exact_max=10)  # Annoy search, queried in a thread pool
    X = snsr_split[2][:200]
    before = m.score(X).score
    assert m.reference.index._pool is not None
    m.close()
    assert m.reference.index._pool is None
    np.testing.assert_array_equal(m.score(X).score, before)


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda p: (p / "reference.ann").write_bytes((p / "reference.ann").read_bytes()[:100]), "sha256"),
        (lambda p: (p / "scorer.json").write_text((p / "scorer.json").read_text().replace("0.5", "5.0")), "sha256"),
        (lambda p: (p / "model.json").unlink(), "missing"),
        (lambda p: (p / "notes.txt").write_text("hi"), "does not list"),
        (lambda p: (p / "manifest.json").write_text("{not json"), "malformed"),
    ],
)
def test_damaged_artifact_is_refused(published, tmp_path, damage, match):
    _, path = _copy(published, tmp_path)
    damage(path)
    with pytest.raises(ArtifactError, match=match):
        OnlineModel.load(path)


def test_file_and_manifest_edited_together_is_caught_by_the_pointer(published, tmp_path):
    root, path = _copy(published, tmp_path)
    (path / "scorer.json").write_text((path / "scorer.json").read_text().replace('"alpha": 0.5', '"alpha": 9.0'))
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"]["scorer.json"] = hashlib.sha256((path / "scorer.json").read_bytes()).hexdigest()
    (path / "manifest.json").write_text(json.dumps(manifest))
    OnlineModel.load(path)
    with pytest.raises(ArtifactError, match="current pointer"):
        OnlineModel.load_current(root)


class _Boom:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('/tmp/latentwatch-pwned').write_text('x')",))


def test_pickled_weights_are_never_executed(published, tmp_path):
    root, path = _copy(published, tmp_path)
    (path / "model.safetensors").write_bytes(pickle.dumps({"w": _Boom()}))
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"]["model.safetensors"] = hashlib.sha256((path / "model.safetensors").read_bytes()).hexdigest()
    (path / "manifest.json").write_text(json.dumps(manifest))
    import pathlib

    pathlib.Path("/tmp/latentwatch-pwned").unlink(missing_ok=True)
    with pytest.raises(ArtifactError, match="model in .* cannot be loaded"):
        OnlineModel.load(path)
    assert not pathlib.Path("/tmp/latentwatch-pwned").exists()


def test_missing_or_bad_pointer(tmp_path):
    with pytest.raises(ArtifactError, match="no current artifact"):
        store.resolve_current(tmp_path)
    (tmp_path / "current.json").write_text("[]")
    with pytest.raises(ArtifactError, match="malformed"):
        store.resolve_current(tmp_path)


def test_rollback_points_current_at_an_older_version(published, tmp_path, snsr_split):
    root, first = _copy(published, tmp_path)
    X_train, X_val, _, _ = snsr_split
    second = fit_artifact(
        np.vstack([X_train, X_val])[:150],
        root,
        TrainSpec(hidden=(16,), latent=4, epochs=3, n_trees=5),
        seed=1,
        progress=False,
    )
    assert store.resolve_current(root) == second
    assert store.list_versions(root) == sorted([first.name, second.name])
    store.set_current(root, first.name)
    assert OnlineModel.load_current(root).version == first.name


def test_warm_up_does_the_one_time_search_work_before_the_first_batch(published):
    m = OnlineModel.load_current(published[0])
    assert m.reference.index.method == "exact" and m.k not in m.reference.index._far_radius
    m.warm_up()
    assert m.k in m.reference.index._far_radius


@pytest.mark.parametrize("version", ["../../outside_version", "../x", "..", ".", "a/b", "a\\b", "/etc", "", "\x00"])
def test_pointer_and_set_current_refuse_a_version_that_is_not_a_plain_name(tmp_path, version):
    (tmp_path / "current.json").write_text(json.dumps({"version": version, "manifest_sha256": "0" * 64}))
    with pytest.raises(ArtifactError, match="not a plain version name"):
        store.resolve_current(tmp_path)
    with pytest.raises(ArtifactError, match="not a plain version name"):
        store.set_current(tmp_path, version)


def test_resolve_current_checks_the_manifest_against_the_pointer(published, tmp_path):
    root, path = _copy(published, tmp_path)
    assert store.resolve_current(root) == path
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["metrics"] = {"edited": True}
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="does not match the sha256 recorded in the current pointer"):
        store.resolve_current(root)
    with pytest.raises(ArtifactError, match="does not match the sha256 recorded in the current pointer"):
        OnlineModel.load_current(root)
