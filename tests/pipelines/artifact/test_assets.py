"""Per-asset references in an artifact: published without retraining, loaded shard by shard, verified, scored."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipelines.artifact.assets import publish_assets, read_index, shard_name
from pipelines.artifact.store import ArtifactError, resolve_current
from pipelines.fit import TrainSpec, fit_artifact
from pipelines.online import OnlineModel
from pipelines.reference.assets import build_asset_normal
from pipelines.reference.partition import partition_of


@pytest.fixture(scope="module")
def base(tmp_path_factory, snsr_split):
    root = tmp_path_factory.mktemp("asset-artifacts")
    X = np.vstack(snsr_split[:2])
    path = fit_artifact(
        X, root, TrainSpec(hidden=(32, 16), latent=6, epochs=30, n_trees=5, k=5), seed=0, progress=False
    )
    return root, path, X


def _normals(path, X, shift):
    m = OnlineModel.load(path)
    shifted = X + shift * X.std(axis=0)
    return {
        "plant/a": build_asset_normal(m.model, X, m.scorer, k=5, folds=4),
        "plant/b": build_asset_normal(m.model, shifted, m.scorer, k=5, folds=4),
    }, shifted


def test_old_artifact_has_no_asset_part_and_scores_globally(base):
    root, path, X = base
    m = OnlineModel.load(path)
    assert m.assets is None and m.asset_calibration is None
    out = m.score(X[:20], assets=["plant/a"] * 20)
    assert out.reference == ["global"] * 20
    np.testing.assert_array_equal(out.score, m.score(X[:20]).score)


def test_each_asset_is_scored_against_its_own_reference(base):
    root, path, X = base
    normals, shifted = _normals(path, X, 2.0)
    publish_assets(root, path, normals, shards=4)
    m = OnlineModel.load_current(root)
    assert sorted(m.assets.keys) == ["plant/a", "plant/b"] and m.assets.loaded_shards == []
    q = shifted[:30]
    mixed = m.score(np.vstack([q, q]), assets=["plant/b"] * 30 + ["elsewhere"] * 30)
    assert mixed.reference == ["asset:plant/b"] * 30 + ["global"] * 30
    # plant/b's normal is shifted: inside its own normal, far outside the global one
    assert np.median(mixed.score[:30]) < np.median(mixed.score[30:])
    assert m.assets.loaded_shards == [shard_name(partition_of("plant/b", 4))]
    np.testing.assert_array_equal(mixed.score[30:], m.score(q).score)
    alone = m.score(q, assets=["plant/b"] * 30)
    np.testing.assert_allclose(alone.score, mixed.score[:30])
    cal = m.asset_calibration
    np.testing.assert_array_equal(cal["plant/b"], normals["plant/b"].calibration)
    assert len(cal) == 2 and "plant/c" not in cal


def test_refresh_of_one_asset_rewrites_only_its_shard(base):
    root, path, X = base
    normals, _ = _normals(path, X, 2.0)
    v1 = publish_assets(root, path, normals, shards=4)
    fresh = build_asset_normal(OnlineModel.load(v1).model, X[::-1].copy(), OnlineModel.load(v1).scorer, k=5)
    v2 = publish_assets(root, v1, {"plant/a": fresh})
    m1, m2 = (json.loads((v / "manifest.json").read_text()) for v in (v1, v2))
    a, b = shard_name(partition_of("plant/a", 4)), shard_name(partition_of("plant/b", 4))
    assert a != b, "the two keys must fall in different shards for this test"
    assert m2["files"][b] == m1["files"][b] and m2["files"][a] != m1["files"][a]
    assert m2["files"]["model.safetensors"] == m1["files"]["model.safetensors"]
    assert m2["base_version"] == m1["version"] and m2["assets"]["keys"] == 2
    loaded = OnlineModel.load(v2)
    np.testing.assert_array_equal(loaded.asset_calibration["plant/a"], fresh.calibration)
    np.testing.assert_array_equal(loaded.asset_calibration["plant/b"], normals["plant/b"].calibration)
    assert resolve_current(root) == v2


def test_tampered_shard_is_refused_when_read(base):
    root, path, X = base
    normals, shifted = _normals(path, X, 2.0)
    v = publish_assets(root, path, normals, shards=4, make_current=False)
    name = shard_name(partition_of("plant/b", 4))
    target = v / name
    target.chmod(0o644)
    data = bytearray(target.read_bytes())
    data[-1] ^= 1
    target.unlink()  # the file may be a hard link shared with another version
    target.write_bytes(bytes(data))
    m = OnlineModel.load(v)  # the other files verify; the shard is hashed when first needed
    m.score(X[:5], assets=["plant/a"] * 5)
    with pytest.raises(ArtifactError, match=f"{name} fails its sha256 check"):
        m.score(shifted[:5], assets=["plant/b"] * 5)


def test_key_pattern_groups_assets(base):
    root, path, X = base
    normals, shifted = _normals(path, X, 2.0)
    v = publish_assets(root, path, normals, shards=4, key_pattern=r"plant/[^/]+", make_current=False)
    assert read_index(v)["key_pattern"] == r"plant/[^/]+"
    m = OnlineModel.load(v)
    out = m.score(shifted[:4], assets=["plant/b/pump-1", "plant/b/pump-2", "plant/a/x", "other/b"])
    assert out.reference == ["asset:plant/b", "asset:plant/b", "asset:plant/a", "global"]


def test_a_group_member_s_threshold_starts_from_its_group_s_calibration(base):
    from pipelines.threshold import ThresholdBank

    root, path, X = base
    normals, _ = _normals(path, X, 2.0)
    m = OnlineModel.load(publish_assets(root, path, normals, shards=4, key_pattern=r"plant/[^/]+", make_current=False))
    cal = m.asset_calibration
    assert "plant/b/pump-1" in cal and "other/b" not in cal
    np.testing.assert_array_equal(cal["plant/b/pump-1"], cal["plant/b"])
    shared = np.r_[cal["plant/a"], cal["plant/b"]]
    bank = ThresholdBank("spot", shared, cal, q=1e-3, level=0.5)
    group = ThresholdBank("spot", shared, {"plant/b": cal["plant/b"]}, q=1e-3, level=0.5)
    assert bank.source("plant/b/pump-1") == "own" and bank.source("other/b") == "shared"
    assert bank.detector("plant/b/pump-1").threshold == group.detector("plant/b").threshold
    assert bank.detector("other/b").threshold == pytest.approx(bank.detector("unseen").threshold)
    assert bank.detector("plant/b/pump-1").threshold != bank.detector("unseen").threshold
    assert sorted(bank.calibrated_assets) == ["plant/a", "plant/b"]


def test_preload_reads_only_the_shards_of_given_partitions(base):
    root, path, X = base
    normals, _ = _normals(path, X, 2.0)
    m = OnlineModel.load(publish_assets(root, path, normals, shards=4, make_current=False))
    p = partition_of("plant/a", 4)
    m.assets.preload({p})
    assert m.assets.loaded_shards == [shard_name(p)]


def test_an_asset_s_own_scaler_travels_with_its_reference(base):
    from pipelines.model.frozen import FrozenModel
    from pipelines.model.scaler import Scaler
    from pipelines.reference.assets import score_against

    root, path, X = base
    m = OnlineModel.load(path)
    far = X * 3 + 40 * X.std(axis=0)  # another operating point: clips through the model's scaler
    own = Scaler.fit(far)
    normal = build_asset_normal(m.model, far, m.scorer, k=5, folds=4, scaler=own)
    v = publish_assets(
        root, path, {"far": normal, "near": build_asset_normal(m.model, X, m.scorer, k=5)}, shards=4, make_current=False
    )
    loaded = OnlineModel.load(v)
    got = loaded.score(np.vstack([far[:10], X[:10]]), assets=["far"] * 10 + ["near"] * 10)
    np.testing.assert_allclose(
        got.score[:10], score_against(FrozenModel(own, m.model.ae), normal.reference, m.scorer, far[:10]), rtol=1e-6
    )
    np.testing.assert_allclose(got.score[10:], loaded.score(X[:10], assets=["near"] * 10).score, rtol=1e-6)
    np.testing.assert_array_equal(loaded.assets.scaler("far").center, own.center)
    assert loaded.assets.scaler("near") is None
    # a refresh of "near" keeps "far"'s scaler (same shard or not)
    v2 = publish_assets(
        root, v, {"near": build_asset_normal(m.model, X[::-1].copy(), m.scorer, k=5)}, make_current=False
    )
    np.testing.assert_array_equal(OnlineModel.load(v2).assets.scaler("far").scale, own.scale)
