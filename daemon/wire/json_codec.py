"""The JSON message, both ways: parse and check one message (``parse_message``), the batch-wide type check of
JSON rows (``bad_types``), and ``serialize_json`` for whoever sends windows (the load generator).

Parsing is orjson, one C call per message, with a fast path of dict lookups for an obviously well-formed message and
the full checks only when it does not match, so the reason is always named. No message raises anything but
``InvalidMessage`` (JSON nested past the parsers' recursion limits is ``malformed_json``). Strings are never coerced
to numbers (numpy would turn "1.5" into 1.5): a string is non-numeric, or non-finite when it spells NaN or infinity.
JSON ``NaN``/``Infinity`` literals, which orjson rejects, are told apart from malformed JSON by the standard library's
more permissive parser.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import orjson

from daemon.wire.schema import MAX_TS_MS, REQUIRED_FIELDS, SCHEMA_VERSION, InvalidMessage, Reason

_NUMERIC = frozenset({float, int})
_NONFINITE_WORDS = frozenset({"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})
_NONFINITE_LITERAL = re.compile(rb"NaN|Infinity")


def serialize_json(asset: str, ts_ms: int, values: Any, meta: dict[str, Any] | None = None) -> bytes:
    """One window as the daemon reads it; ``values`` may be a numpy array."""
    return orjson.dumps(
        {"schema": SCHEMA_VERSION, "asset": asset, "ts": ts_ms, "values": values, "meta": meta},
        option=orjson.OPT_SERIALIZE_NUMPY,
    )


def parse_json(value: bytes | None, max_bytes: int) -> Any:
    if value is None:
        raise InvalidMessage(Reason.MALFORMED_JSON, "empty value (tombstone)")
    if len(value) > max_bytes:
        raise InvalidMessage(Reason.OVERSIZED, f"{len(value)} bytes > dead_letter.max_bytes {max_bytes}")
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as e:
        if "depth limit" in str(e):
            raise InvalidMessage(Reason.MALFORMED_JSON, f"JSON nested deeper than orjson reads: {e}") from None
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError as u:
            raise InvalidMessage(Reason.NOT_UTF8, f"invalid UTF-8 at byte {u.start}") from None
        try:
            obj = json.loads(text)  # accepts NaN/Infinity literals and overflowing numbers, which orjson rejects
        except ValueError:
            raise InvalidMessage(Reason.MALFORMED_JSON, str(e)) from None
        except RecursionError:
            raise InvalidMessage(Reason.MALFORMED_JSON, "JSON nested deeper than Python's parser reads") from None
        if _NONFINITE_LITERAL.search(value) or "infinity" in str(e):
            raise InvalidMessage(Reason.NON_FINITE, "NaN or Infinity in the JSON") from None
        return obj


def parse_ts(ts: Any) -> int:
    """Epoch milliseconds (UTC) from epoch ms or an ISO-8601 string (a naive one is taken as UTC)."""
    if isinstance(ts, bool) or ts is None:
        raise InvalidMessage(Reason.INVALID_FIELD, f"ts must be ISO-8601 or epoch ms, got {ts!r}")
    if isinstance(ts, (int, float)):
        if not math.isfinite(ts) or not 0 <= ts < MAX_TS_MS:
            raise InvalidMessage(Reason.INVALID_FIELD, f"ts epoch ms out of range: {ts!r}")
        return int(ts)
    if isinstance(ts, str):
        try:
            dt = datetime.fromisoformat(ts)
        except ValueError:
            raise InvalidMessage(Reason.INVALID_FIELD, f"ts is not ISO-8601: {ts[:64]!r}") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        try:
            ms = int(dt.timestamp() * 1000)
        except (OverflowError, ValueError):
            ms = -1
        if not 0 <= ms < MAX_TS_MS:  # the epoch-ms range: "0001-01-01T00:00:00+23:59" is year 0 in UTC
            raise InvalidMessage(Reason.INVALID_FIELD, f"ts out of range (1970 to 5138): {ts[:64]!r}")
        return ms
    raise InvalidMessage(Reason.INVALID_FIELD, f"ts must be ISO-8601 or epoch ms, got {type(ts).__name__}")


def parse_window(obj: Any) -> tuple[str, int, list[Any], dict[str, Any] | None]:
    """The structural checks of one decoded message: (asset, ts_ms, values, meta). Values are checked per batch."""
    if not isinstance(obj, dict):
        raise InvalidMessage(Reason.MALFORMED_JSON, f"top level is a JSON {type(obj).__name__}, not an object")
    for name in REQUIRED_FIELDS:
        if name not in obj:
            raise InvalidMessage(Reason.MISSING_FIELD, f"no {name!r}")
    schema = obj["schema"]
    if schema != SCHEMA_VERSION or isinstance(schema, bool):
        raise InvalidMessage(Reason.UNKNOWN_SCHEMA, f"schema {schema!r}, this daemon reads {SCHEMA_VERSION}")
    asset = obj["asset"]
    if not isinstance(asset, str) or not asset:
        raise InvalidMessage(Reason.INVALID_FIELD, f"asset must be a non-empty string, got {asset!r:.64}")
    try:
        asset.encode("utf-8")  # the standard parser (the slow path) takes lone surrogates, which no key can hold
    except UnicodeEncodeError as u:
        raise InvalidMessage(Reason.INVALID_FIELD, f"asset is not valid UTF-8 ({u.reason} at {u.start})") from None
    values = obj["values"]
    if not isinstance(values, list):
        raise InvalidMessage(Reason.NON_NUMERIC, f"values must be a list of numbers, got {type(values).__name__}")
    meta = obj.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise InvalidMessage(Reason.INVALID_FIELD, f"meta must be an object, got {type(meta).__name__}")
    return asset, parse_ts(obj["ts"]), values, meta


def check_row_types(row: list[Any], dim: int) -> InvalidMessage | None:
    if len(row) != dim:
        return InvalidMessage(Reason.WRONG_LENGTH, f"{len(row)} values, the model expects {dim}")
    if _NUMERIC.issuperset(map(type, row)):
        return None
    for i, v in enumerate(row):
        if type(v) in _NUMERIC:
            continue
        if isinstance(v, str) and v.strip().lower() in _NONFINITE_WORDS:
            return InvalidMessage(Reason.NON_FINITE, f"values[{i}] is {v!r}")
        return InvalidMessage(Reason.NON_NUMERIC, f"values[{i}] is {type(v).__name__} {v!r:.32}")
    return None  # pragma: no cover - unreachable: some element was not numeric


def parse_message(value: bytes | None, dim: int, max_bytes: int) -> tuple[str, int, list[Any], dict[str, Any] | None]:
    """(asset, ts_ms, values, meta) of one JSON message. Element types are checked here only off the fast path;
    on it, once per batch (``bad_types``)."""
    if value is not None and len(value) <= max_bytes:
        try:
            fields = _fast_fields(orjson.loads(value), dim)
        except orjson.JSONDecodeError:
            fields = None
        if fields is not None:
            asset, ts, values, meta = fields
            return asset, ts_ms_of(ts), values, meta
    asset, ts_ms, values, meta = parse_window(parse_json(value, max_bytes))
    bad = check_row_types(values, dim)
    if bad is not None:
        raise bad
    return asset, ts_ms, values, meta


def _fast_fields(obj: Any, dim: int) -> tuple[str, Any, list[Any], dict[str, Any] | None] | None:
    """(asset, ts, values, meta) of an obviously well-formed message, else None ("not obviously valid")."""
    if type(obj) is not dict:
        return None
    schema, asset, values, meta = obj.get("schema"), obj.get("asset"), obj.get("values"), obj.get("meta")
    if (
        type(schema) is int
        and schema == SCHEMA_VERSION
        and type(asset) is str
        and asset
        and type(values) is list
        and len(values) == dim
        and (meta is None or type(meta) is dict)
        and "ts" in obj
    ):
        return asset, obj["ts"], values, meta
    return None


def ts_ms_of(ts: Any) -> int:
    """``parse_ts`` with a shortcut for the common case, an integer epoch ms in range."""
    return ts if type(ts) is int and 0 <= ts < MAX_TS_MS else parse_ts(ts)


def bad_types(rows: list[Any], dim: int) -> dict[int, InvalidMessage]:
    """JSON rows holding something other than numbers: one C-level pass over the batch, per row only if it fails."""
    lists = [r for r in rows if type(r) is list]
    if not lists or _NUMERIC.issuperset(map(type, chain.from_iterable(lists))):
        return {}
    return {j: err for j, row in enumerate(rows) if type(row) is list and (err := check_row_types(row, dim))}
