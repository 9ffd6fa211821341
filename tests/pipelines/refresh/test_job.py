"""The refresh end to end in memory: what it leaves out, what it publishes, and what a failed validation leaves."""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from pipelines.artifact.store import list_versions, read_manifest, read_pointer, resolve_current
from pipelines.online import OnlineModel
from pipelines.refresh.job import refresh
from pipelines.refresh.select import AlarmRanges
from tests.pipelines.refresh.conftest import RULE, Settings


def test_refresh_publishes_the_same_model_with_a_reference_without_the_fault(root, traffic):
    X, asset, ts, fault = traffic
    before = read_pointer(root)["version"]
    old = read_manifest(root, before)
    out = refresh(root, X, asset, ts, AlarmRanges(), {}, Settings(), RULE)
    assert out.status == "published", out.verdict.reasons
    new = read_manifest(root, out.version)
    assert read_pointer(root)["version"] == out.version and new["refreshed_from"] == before
    for name in ("model.safetensors", "model.json", "scaler.safetensors", "scorer.json"):
        assert new["files"][name] == old["files"][name]
    assert new["files"]["reference.safetensors"] != old["files"]["reference.safetensors"]
    counts = new["refresh"]
    assert counts["candidates"] == len(X) and counts["excluded"]["above_quantile"] >= 30
    assert counts["kept"] + sum(counts["excluded"].values()) == len(X)
    assert sorted(counts["asset_normals_rebuilt"]) == ["a", "b"]
    # the fault's windows are not in the new reference: their latents are far from every reference item
    m = OnlineModel.load(resolve_current(root))
    z_fault = m.model.encode(X[fault])[1]
    idx, dist = m.reference.index.query(z_fault, 1)
    z_normal = m.model.encode(X[~fault][:200])[1]
    assert np.median(dist) > 2 * np.median(m.reference.index.query(z_normal, 1)[1])
    assert m.assets is not None and sorted(m.assets.keys) == ["a", "b"]
    m.close()


def test_alarmed_windows_are_left_out_even_below_the_quantile(root, traffic):
    X, asset, ts, fault = traffic
    ranges = AlarmRanges(spans={"a": [(int(ts[fault][0]), int(ts[fault][-1]))]})
    out = refresh(root, X, asset, ts, ranges, {}, Settings(exclude_quantile=1.0), RULE, dry_run=True)
    assert out.status == "dry_run" and out.version is None
    assert out.selection.excluded["alarmed"] == int(fault.sum()) and out.selection.excluded["above_quantile"] == 0
    assert not set(np.flatnonzero(fault)) & set(out.selection.keep.tolist())


def test_a_failed_validation_publishes_nothing_and_leaves_current_byte_identical(root, traffic):
    X, asset, ts, _ = traffic
    pointer = (root / "current.json").read_bytes()
    versions = list_versions(root)
    strict = dataclasses.replace(RULE, max_alarm_rate_increase=-1.0)  # no alarm rate can pass
    out = refresh(root, X, asset, ts, AlarmRanges(), {}, Settings(), strict)
    assert out.status == "failed" and "alarm rate" in out.verdict.reasons[0]
    assert (root / "current.json").read_bytes() == pointer
    assert list_versions(root) == versions and not [p for p in root.iterdir() if p.name.startswith(".staging")]


def test_a_drift_since_drops_the_assets_older_windows(root, traffic):
    X, asset, ts, _ = traffic
    since = int(ts[700])
    out = refresh(root, X, asset, ts, AlarmRanges(), {"b": since}, Settings(), RULE, dry_run=True)
    kept = out.selection.keep
    assert out.selection.excluded["before_since"] == int(((asset == "b") & (ts < since)).sum())
    assert (ts[kept][asset[kept] == "b"] >= since).all() and (ts[kept][asset[kept] == "a"] < since).any()
    assert json.loads((root / "current.json").read_text())["version"] == out.previous


def test_float32_windows_publish_exactly_what_their_float64_copy_does(root, trained_root, tmp_path, traffic):
    """The topic reader hands the refresh float32 windows (the decoder's values); widened to float64 they must give
    the same selection, reference, calibration, per-asset normals and data fingerprint, byte for byte."""
    import shutil

    X, asset, ts, _ = traffic
    X32 = X.astype(np.float32)
    other = tmp_path / "other"
    shutil.copytree(trained_root, other, symlinks=True)
    a = refresh(root, X32, asset, ts, AlarmRanges(), {}, Settings(), RULE)
    b = refresh(other, X32.astype(np.float64), asset, ts, AlarmRanges(), {}, Settings(), RULE)
    assert a.status == b.status == "published"
    np.testing.assert_array_equal(a.selection.keep, b.selection.keep)
    ma, mb = read_manifest(root, a.version), read_manifest(other, b.version)
    assert ma["files"] == mb["files"]
    assert ma["data_fingerprint"] == mb["data_fingerprint"]
