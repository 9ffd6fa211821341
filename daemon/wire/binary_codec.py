"""The compact binary window: the same fields as the JSON message, without parsing numbers from text.

Layout (little-endian), accepted on the input topic beside JSON (a JSON message never starts with ``LW``)::

    0   2s  magic b"LW"
    2   u8  schema version (1, as JSON's "schema")
    3   u8  flags: bit 0 = meta follows the values; other bits must be 0
    4   u16 asset length in bytes (UTF-8)
    6   i64 ts, epoch milliseconds (UTC)
    14  u16 n, the number of values
    16  asset bytes, then n float32 values, then (flag 0) a JSON object of meta up to the end

Values are float32 because that is what the model reads: a float64 the sender holds is rounded the way the JSON
path rounds it. The whole batch's values become one array with one ``np.frombuffer``.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import orjson

from daemon.wire.schema import MAX_TS_MS, SCHEMA_VERSION, InvalidMessage, Reason

MAGIC = b"LW"
_HEAD = struct.Struct("<2sBBHqH")
HEADER_BYTES = _HEAD.size
FLAG_META = 0x01


def serialize_binary(asset: str, ts_ms: int, values: Any, meta: dict[str, Any] | None = None, schema: int = 1) -> bytes:
    a = asset.encode("utf-8")
    v = np.ascontiguousarray(values, dtype="<f4").ravel()
    head = _HEAD.pack(MAGIC, schema, FLAG_META if meta else 0, len(a), int(ts_ms), v.size)
    return b"".join((head, a, v.tobytes(), orjson.dumps(meta) if meta else b""))


def is_binary(value: bytes) -> bool:
    return value[:2] == MAGIC


def parse_binary(value: bytes, dim: int) -> tuple[str, int, bytes, dict[str, Any] | None]:
    """(asset, ts_ms, the values' float32 bytes, meta); raises InvalidMessage naming what is wrong."""
    if len(value) < HEADER_BYTES:
        raise InvalidMessage(
            Reason.MALFORMED_BINARY, f"{len(value)} bytes, shorter than the {HEADER_BYTES}-byte header"
        )
    _, schema, flags, n_asset, ts_ms, n = _HEAD.unpack_from(value)
    if schema != SCHEMA_VERSION:
        raise InvalidMessage(Reason.UNKNOWN_SCHEMA, f"binary schema {schema}, this daemon reads {SCHEMA_VERSION}")
    if flags & ~FLAG_META:
        raise InvalidMessage(Reason.MALFORMED_BINARY, f"unknown flag bits 0x{flags:02x}")
    end_values = HEADER_BYTES + n_asset + 4 * n
    if len(value) < end_values or (not flags & FLAG_META and len(value) != end_values):
        raise InvalidMessage(
            Reason.MALFORMED_BINARY,
            f"{len(value)} bytes, but the header's asset length {n_asset} and {n} values need {end_values}",
        )
    if n != dim:
        raise InvalidMessage(Reason.WRONG_LENGTH, f"{n} values, the model expects {dim}")
    try:
        asset = value[HEADER_BYTES : HEADER_BYTES + n_asset].decode("utf-8")
    except UnicodeDecodeError as u:
        raise InvalidMessage(Reason.NOT_UTF8, f"asset: invalid UTF-8 at byte {HEADER_BYTES + u.start}") from None
    if not asset:
        raise InvalidMessage(Reason.INVALID_FIELD, "asset must be a non-empty string")
    if not 0 <= ts_ms < MAX_TS_MS:
        raise InvalidMessage(Reason.INVALID_FIELD, f"ts epoch ms out of range: {ts_ms}")
    meta = None
    if flags & FLAG_META:
        try:
            meta = orjson.loads(value[end_values:])
        except orjson.JSONDecodeError as e:
            raise InvalidMessage(Reason.MALFORMED_BINARY, f"meta is not JSON: {e}") from None
        if not isinstance(meta, dict):
            raise InvalidMessage(Reason.INVALID_FIELD, f"meta must be an object, got {type(meta).__name__}")
    return asset, ts_ms, value[HEADER_BYTES + n_asset : end_values], meta
