"""The refresh's selection: quantile and alarm exclusion, drift's since, the per-asset quota."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.refresh.select import AlarmRanges, alarm_ranges, alarmed_mask, quota, quota_sample, select


def _alert(asset, ts_ms, event, eid="e1", opened=None, last=None):
    ep = {"event": event, "episode_id": eid, "opened_ts": (opened or ts_ms) / 1000, "last_ts": (last or ts_ms) / 1000}
    return {"asset": asset, "ts_ms": ts_ms, "episode": ep}


def test_alarmed_windows_and_whole_episodes_are_marked():
    alerts = [
        _alert("a", 10_000, "open"),
        _alert("a", 12_000, "update", opened=10_000),
        _alert("a", 15_000, "close", opened=10_000, last=14_000),
        _alert("b", 30_000, "open", eid="e2"),  # never closed in the range: runs to its end
        {"asset": "c"},  # no episode: skipped
    ]
    ranges = alarm_ranges(alerts, end_ms=40_000)
    assert ranges.points == {"a": {10_000, 12_000}, "b": {30_000}}
    assert ranges.spans == {"a": [(10_000, 14_000)], "b": [(30_000, 40_000)]}
    asset = np.array(["a", "a", "a", "a", "b", "b", "c"])
    ts = np.array([9_000, 10_000, 13_000, 14_001, 29_000, 39_000, 12_000])
    assert alarmed_mask(asset, ts, ranges).tolist() == [False, True, True, False, False, True, False]


def test_quota_is_the_largest_that_fits_and_small_assets_keep_everything():
    assert quota(np.array([5, 100, 100]), 105) == 50
    assert quota(np.array([5, 100, 100]), 1000) == 100
    asset = np.array(["s"] * 5 + ["big"] * 100 + ["mid"] * 100)
    rows = quota_sample(asset, 105, seed=1)
    kept = dict(zip(*np.unique(asset[rows], return_counts=True), strict=True))
    assert len(rows) == 105 and kept["s"] == 5 and kept["big"] >= 50 and kept["mid"] >= 50
    assert np.all(np.diff(rows) > 0)  # time order kept
    np.testing.assert_array_equal(rows, quota_sample(asset, 105, seed=1))
    assert not np.array_equal(rows, quota_sample(asset, 105, seed=2))


def test_every_asset_is_represented_under_a_tight_cap():
    asset = np.array(["x"] * 1000 + [f"r{i}" for i in range(20)])
    kept = asset[quota_sample(asset, 40, seed=0)]
    assert set(kept) == set(asset) and len(kept) <= 40


def test_select_counts_each_window_under_its_first_reason():
    asset = np.array(["a"] * 6 + ["b"] * 4)
    ts = np.arange(10) * 1000
    above = np.zeros(10, bool)
    above[[1, 2, 7]] = True  # 1 also alarmed, 7 before b's since
    ranges = AlarmRanges(points={"a": {1000, 4000}}, spans={})
    sel = select(asset, ts, above, ranges, {"b": 8000}, cap=3, seed=0)
    assert sel.counts()["excluded"] == {"before_since": 2, "alarmed": 2, "above_quantile": 1, "over_cap": 2}
    assert sel.counts()["kept"] == 3 and set(asset[sel.keep]) == {"a", "b"}
    assert not set(sel.keep) & {1, 2, 4, 6, 7}
    with pytest.raises(ValueError, match="disagree in length"):
        select(asset, ts[:3], above, ranges, {}, 3, 0)
