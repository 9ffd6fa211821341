"""The per-window bounds beyond the schema (daemon/wire/bounds.py) as decode_batch applies them."""

from __future__ import annotations

import pytest

from daemon.config import InputConfig
from daemon.inmemory import Record
from daemon.wire.bounds import check_meta, meta_depth
from daemon.wire.json_codec import parse_ts
from daemon.wire.records import decode_batch
from daemon.wire.schema import Reason
from tests.daemon.helpers import window

DIM = 4
NOW = 1_796_000_000_000  # a record's broker timestamp


def _decode(values, timestamps=None, limits=None):
    timestamps = timestamps or [NOW] * len(values)
    recs = [Record("t", 0, i, b"k", v, timestamp=ts) for i, (v, ts) in enumerate(zip(values, timestamps, strict=True))]
    out = decode_batch(recs, DIM, 1 << 20, limits)
    return out.windows.asset, {i: (e.reason, e.detail) for i, e in out.rejected}


def _nested(levels: int):
    obj: object = 1
    for _ in range(levels):
        obj = [obj]
    return obj


def test_meta_depth_counts_containers_without_recursion():
    assert meta_depth({}) == 1 and meta_depth({"a": [1, {"b": 2}]}) == 3 and meta_depth(5) == 0
    assert meta_depth({"a": _nested(5000)}) == 5001  # deeper than Python's recursion limit


@pytest.mark.parametrize(
    "meta, fragment",
    [
        ({"a": _nested(16)}, "meta nests 17 levels deep > input.meta_max_depth 16"),
        ({"a": _nested(300)}, "meta nests 301 levels deep"),  # orjson cannot write it: depth named all the same
        ({"x": "y" * 20_000}, "meta is 20008 bytes as JSON > input.meta_max_bytes 16384"),
        ({"n": 10**30}, "cannot be written back as JSON"),
        ({"s": "\ud800"}, "cannot be written back as JSON"),
    ],
)
def test_meta_outside_its_bounds_is_named(meta, fragment):
    err = check_meta(meta, InputConfig())
    assert err is not None and err.reason == Reason.INVALID_FIELD and fragment in err.detail


def test_meta_within_its_bounds_passes_brackets_in_strings_included():
    assert check_meta({"a": _nested(15)}, InputConfig()) is None
    assert check_meta({"s": "[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{"}, InputConfig()) is None
    assert check_meta(None, InputConfig()) is None


def test_ts_is_bounded_around_the_record_timestamp_on_the_configured_sides():
    ahead, behind, fine = NOW + 2 * 86_400_000, NOW - 10 * 365 * 86_400_000, NOW + 3_600_000
    values = [
        window("a", ts=ahead, dim=DIM),
        window("b", ts=behind, dim=DIM),
        window("c", ts=fine, dim=DIM),
        window("d", ts=ahead, dim=DIM),
    ]
    stamps = [NOW, NOW, NOW, -1]  # the last record has no timestamp: not checked
    assets, bad = _decode(values, stamps)
    assert assets == ["b", "c", "d"]
    assert bad[0][0] == Reason.INVALID_FIELD and "172800 s ahead of the record's timestamp" in bad[0][1]
    assets, bad = _decode(values, stamps, InputConfig(ts_max_ahead_s=None, ts_max_behind_s=86400))
    assert assets == ["a", "c", "d"] and "s behind the record's timestamp" in bad[1][1]
    assert "input.ts_max_behind_s 86400" in bad[1][1]


@pytest.mark.parametrize(
    "ts", ["9999-12-31T23:59:59Z", 253402300799000, "0001-01-01T00:00:00+23:59", "1969-12-31T23:59:59Z", -1]
)
def test_ts_range_is_the_same_for_iso_and_epoch_ms(ts):
    with pytest.raises(Exception) as e:
        parse_ts(ts)
    assert getattr(e.value, "reason", None) == Reason.INVALID_FIELD


def test_a_long_asset_and_one_with_a_lone_surrogate_are_dead_lettered():
    raw = b'{"schema":1,"asset":"\\ud800","ts":1796000000000,"values":[1,2,3,4]}'
    assets, bad = _decode([window("a" * 257, dim=DIM), raw, window("ok", dim=DIM)])
    assert assets == ["ok"]
    assert "asset is 257 characters > input.asset_max_chars 256" in bad[0][1]
    assert bad[1][0] == Reason.INVALID_FIELD and "not valid UTF-8" in bad[1][1]


@pytest.mark.parametrize("levels", [1100, 5000])
def test_json_nested_past_the_parsers_is_malformed_not_a_crash(levels):
    raw = b'{"schema":1,"asset":"a","ts":1,"values":[1,2,3,4],"meta":{"a":' + b"[" * levels + b"]" * levels + b"}}"
    assets, bad = _decode([raw])
    assert assets == [] and bad[0][0] == Reason.MALFORMED_JSON and "nested deeper" in bad[0][1]
    nan_too = raw.replace(b'"ts":1,', b'"ts":1,"x":NaN,')  # orjson refuses it for the NaN: the standard parser
    assets, bad = _decode([nan_too])
    assert assets == [] and bad[0][0] == Reason.MALFORMED_JSON and "nested deeper" in bad[0][1]
