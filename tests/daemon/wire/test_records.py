"""A batch of records to windows (daemon/wire/records.py): columns in order, every dead-letter reason, the batch-wide
checks."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from daemon.wire.records import decode_batch
from daemon.wire.schema import Reason
from tests.daemon.helpers import recs, window

DIM = 4


def reasons(values: list[bytes | None], max_bytes: int = 10_000) -> list[str]:
    out = decode_batch(recs(values), DIM, max_bytes)
    return [e.reason for _, e in out.rejected]


def test_good_windows_become_columns_in_order():
    out = decode_batch(
        recs([window("a", values=[1, 2, 3, 4]), window("b", ts="2024-05-01T12:00:00Z", values=[0.5, -1e3, 0, 2.25])]),
        DIM,
        10_000,
    )
    w = out.windows
    assert out.rejected == []
    assert w.asset == ["a", "b"]
    assert w.values.dtype == np.float32 and w.values.shape == (2, 4)
    np.testing.assert_array_equal(w.values[1], np.array([0.5, -1e3, 0, 2.25], dtype=np.float32))
    assert w.ts_ms.tolist() == [1_714_564_800_000, 1_714_564_800_000]
    assert w.offset.tolist() == [0, 1] and w.partition.tolist() == [0, 0]


@pytest.mark.parametrize(
    "value, reason",
    [
        (b"{not json", Reason.MALFORMED_JSON),
        (b"[1, 2, 3]", Reason.MALFORMED_JSON),
        (None, Reason.MALFORMED_JSON),
        (b'{"schema": 1, "asset": "\xff\xfe", "ts": 1, "values": [1,2,3,4]}', Reason.NOT_UTF8),
        (orjson.dumps({"schema": 1, "ts": 1, "values": [1, 2, 3, 4]}), Reason.MISSING_FIELD),
        (orjson.dumps({"schema": 1, "asset": "a", "values": [1, 2, 3, 4]}), Reason.MISSING_FIELD),
        (orjson.dumps({"schema": 1, "asset": "a", "ts": 1}), Reason.MISSING_FIELD),
        (orjson.dumps({"asset": "a", "ts": 1, "values": [1, 2, 3, 4]}), Reason.MISSING_FIELD),
        (window(values=[1.0, 2.0, 3.0]), Reason.WRONG_LENGTH),
        (window(values=[1.0] * 5), Reason.WRONG_LENGTH),
        (b'{"schema": 1, "asset": "a", "ts": 1, "values": [1, NaN, 3, 4]}', Reason.NON_FINITE),
        (b'{"schema": 1, "asset": "a", "ts": 1, "values": [1, -Infinity, 3, 4]}', Reason.NON_FINITE),
        (b'{"schema": 1, "asset": "a", "ts": 1, "values": [1, 1e999, 3, 4]}', Reason.NON_FINITE),
        (window(values=[1.0, "NaN", 3.0, 4.0]), Reason.NON_FINITE),
        (window(values=[1.0, "-inf", 3.0, 4.0]), Reason.NON_FINITE),
        (window(values=[1.0, 1e300, 3.0, 4.0]), Reason.NON_FINITE),  # finite in float64, not in float32
        (window(values=[1.0, "1.5", 3.0, 4.0]), Reason.NON_NUMERIC),
        (window(values=[1.0, True, 3.0, 4.0]), Reason.NON_NUMERIC),
        (window(values=[1.0, None, 3.0, 4.0]), Reason.NON_NUMERIC),
        (window(values=[1.0, [2.0], 3.0, 4.0]), Reason.NON_NUMERIC),
        (window(values="1,2,3,4"), Reason.NON_NUMERIC),
        (window(schema=2), Reason.UNKNOWN_SCHEMA),
        (window(schema="1"), Reason.UNKNOWN_SCHEMA),
        (window(schema=True), Reason.UNKNOWN_SCHEMA),
        (window(asset=""), Reason.INVALID_FIELD),
        (window(ts="yesterday"), Reason.INVALID_FIELD),
        (window(ts=True), Reason.INVALID_FIELD),
        (window(meta=[1]), Reason.INVALID_FIELD),
    ],
)
def test_every_dead_letter_class(value, reason):
    assert reasons([value]) == [reason]


def test_oversized_is_rejected_before_parsing():
    big = window(meta={"pad": "x" * 2000})
    assert reasons([big], max_bytes=1000) == [Reason.OVERSIZED]
    assert reasons([big], max_bytes=len(big)) == []


def test_bad_rows_are_removed_and_good_ones_keep_their_offsets():
    values = [
        window("a"),
        b"{",
        window("b", values=[1, 2]),
        window("c"),
        window("d", values=[1, "NaN", 1, 1]),
        window("e", values=[1, 1e300, 1, 1]),
        window("f"),
    ]
    out = decode_batch(recs(values, start=100), DIM, 10_000)
    assert out.windows.asset == ["a", "c", "f"]
    assert out.windows.offset.tolist() == [100, 103, 106]
    assert [(i, e.reason) for i, e in out.rejected] == [
        (1, Reason.MALFORMED_JSON),
        (2, Reason.WRONG_LENGTH),
        (4, Reason.NON_FINITE),
        (5, Reason.NON_FINITE),
    ]
    assert len(out.windows.values) == 3 and len(out.windows.meta) == 3 and len(out.windows.ts_ms) == 3


def test_huge_integer_is_non_finite_not_a_crash():
    v = b'{"schema": 1, "asset": "a", "ts": 1, "values": [1, ' + str(10**400).encode() + b", 3, 4]}"
    assert reasons([v, window()]) == [Reason.NON_FINITE]


def test_empty_batch():
    out = decode_batch([], DIM, 100)
    assert len(out.windows) == 0 and out.windows.values.shape == (0, DIM)
