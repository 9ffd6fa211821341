"""The JSON message both ways (daemon/wire/json_codec.py): parsing one message, and what the load generator sends."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from daemon.wire.json_codec import bad_types, parse_json, parse_message, parse_ts, parse_window, serialize_json
from daemon.wire.schema import SCHEMA_VERSION, InvalidMessage, Reason
from tests.daemon.helpers import window


def test_invalid_message_carries_reason_and_detail():
    with pytest.raises(InvalidMessage) as ei:
        parse_window(orjson.loads(window(schema=7)))
    assert ei.value.reason == Reason.UNKNOWN_SCHEMA and "7" in ei.value.detail
    with pytest.raises(InvalidMessage) as ei:
        parse_json(b"\x80abc", 100)
    assert ei.value.reason == Reason.NOT_UTF8


@pytest.mark.parametrize(
    "ts, ms",
    [
        (1_714_564_800_000, 1_714_564_800_000),
        (1_714_564_800_000.7, 1_714_564_800_000),
        ("2024-05-01T12:00:00Z", 1_714_564_800_000),
        ("2024-05-01T14:00:00+02:00", 1_714_564_800_000),
        ("2024-05-01T12:00:00.250", 1_714_564_800_250),
    ],
)
def test_timestamps(ts, ms):
    assert parse_ts(ts) == ms


def test_a_serialized_window_parses_back_to_its_fields_on_the_fast_path_and_off_it():
    values = np.array([0.25, -1.5, 3.0], dtype=np.float32)
    msg = serialize_json("pump-1", 1_714_564_800_000, values, {"label": 0})
    assert orjson.loads(msg) == {
        "schema": SCHEMA_VERSION,
        "asset": "pump-1",
        "ts": 1_714_564_800_000,
        "values": [0.25, -1.5, 3.0],
        "meta": {"label": 0},
    }
    assert parse_message(msg, 3, 10_000) == ("pump-1", 1_714_564_800_000, [0.25, -1.5, 3.0], {"label": 0})
    iso = serialize_json("pump-1", 0, [1, 2, 3]).replace(b'"ts":0', b'"ts":"1970-01-01T00:00:01Z"')
    assert parse_message(iso, 3, 10_000) == ("pump-1", 1000, [1, 2, 3], None)


def test_element_types_are_left_to_the_batch_on_the_fast_path_and_checked_off_it():
    asset, _, values, _ = parse_message(window(values=[1, "x", 3, 4]), 4, 10_000)
    assert values == [1, "x", 3, 4]
    ((row, err),) = bad_types([values, [1.0, 2.0, 3.0, 4.0]], 4).items()
    assert row == 0 and err.reason == Reason.NON_NUMERIC and "values[1]" in err.detail
    with pytest.raises(InvalidMessage) as ei:
        parse_message(window(values=[1, 2, 3]), 4, 10_000)
    assert ei.value.reason == Reason.WRONG_LENGTH
    with pytest.raises(InvalidMessage) as ei:
        parse_message(window(), 4, 10)
    assert ei.value.reason == Reason.OVERSIZED
