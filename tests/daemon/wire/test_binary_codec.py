import math

import numpy as np
import pytest

from daemon.wire.binary_codec import HEADER_BYTES, serialize_binary
from daemon.wire.records import decode_batch
from daemon.wire.schema import Reason
from tests.daemon.helpers import recs, window

DIM = 4


def reasons(values, max_bytes: int = 10_000) -> list[str]:
    return [e.reason for _, e in decode_batch(recs(values), DIM, max_bytes).rejected]


def test_binary_and_json_windows_decode_alike_in_one_batch():
    vals = [0.1, -2.5, 3e5, 7.0]
    out = decode_batch(
        recs(
            [
                serialize_binary("pump-1", 1_714_564_800_000, vals, {"run": 3}),
                window("pump-2", values=vals),
                serialize_binary("pump-3", 5, vals),
            ]
        ),
        DIM,
        10_000,
    )
    w = out.windows
    assert out.rejected == []
    assert w.asset == ["pump-1", "pump-2", "pump-3"] and w.offset.tolist() == [0, 1, 2]
    assert w.ts_ms.tolist() == [1_714_564_800_000, 1_714_564_800_000, 5]
    assert w.meta == [{"run": 3}, None, None]
    np.testing.assert_array_equal(w.values, np.tile(np.array(vals, dtype=np.float32), (3, 1)))


def binary_with(**header) -> bytes:
    good = bytearray(serialize_binary("a", 1, [1.0] * DIM))
    if "version" in header:
        good[2] = header["version"]
    if "flags" in header:
        good[3] = header["flags"]
    return bytes(good)


@pytest.mark.parametrize(
    "value, reason",
    [
        (b"LW\x01", Reason.MALFORMED_BINARY),
        (serialize_binary("a", 1, [1.0] * DIM)[:-1], Reason.MALFORMED_BINARY),
        (serialize_binary("a", 1, [1.0] * DIM) + b"x", Reason.MALFORMED_BINARY),
        (binary_with(version=2), Reason.UNKNOWN_SCHEMA),
        (binary_with(flags=0x80), Reason.MALFORMED_BINARY),
        (serialize_binary("a", 1, [1.0] * (DIM + 1)), Reason.WRONG_LENGTH),
        (serialize_binary("a", 1, [1.0, math.nan, 1.0, 1.0]), Reason.NON_FINITE),
        (serialize_binary("a", 1, [1.0, math.inf, 1.0, 1.0]), Reason.NON_FINITE),
        (serialize_binary("", 1, [1.0] * DIM), Reason.INVALID_FIELD),
        (serialize_binary("a", -5, [1.0] * DIM), Reason.INVALID_FIELD),
        (
            serialize_binary("a", 1, [1.0] * DIM)[:HEADER_BYTES] + b"\xff" + serialize_binary("a", 1, [1.0] * DIM)[17:],
            Reason.NOT_UTF8,
        ),
        (serialize_binary("a", 1, [1.0] * DIM, {"k": 1})[:-1], Reason.MALFORMED_BINARY),
        (
            serialize_binary("a", 1, [1.0] * DIM)[:3] + b"\x01" + serialize_binary("a", 1, [1.0] * DIM)[4:] + b"[1]",
            Reason.INVALID_FIELD,
        ),
    ],
)
def test_every_binary_dead_letter_class(value, reason):
    assert reasons([value]) == [reason]


def test_oversized_binary_is_rejected_unread():
    big = serialize_binary("a", 1, [1.0] * DIM, {"pad": "x" * 500})
    assert reasons([big], max_bytes=100) == [Reason.OVERSIZED]


def test_a_bad_binary_row_leaves_its_neighbours_in_place():
    values = [
        serialize_binary("a", 1, [1.0] * DIM),
        serialize_binary("b", 1, [math.nan] * DIM),
        window("c"),
        serialize_binary("d", 1, [2.0] * DIM),
    ]
    out = decode_batch(recs(values, start=10), DIM, 10_000)
    assert out.windows.asset == ["a", "c", "d"] and out.windows.offset.tolist() == [10, 12, 13]
    assert [(i, e.reason) for i, e in out.rejected] == [(1, Reason.NON_FINITE)]
    assert out.windows.values[2].tolist() == [2.0] * DIM
