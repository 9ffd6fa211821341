"""Decode and validate windows: JSON per message (orjson, one C call each), then the vectors of the whole batch.

Input, one Kafka message per window, keyed by asset::

    {"schema": 1, "asset": "pump-7", "ts": "2024-05-01T12:00:00Z" | 1714564800000, "values": [0.1, ...], "meta": {}}

or the compact binary form of the same fields (``daemon/binary.py``); the two mix freely in a batch.

A message that cannot become a window raises (or is collected as) ``InvalidMessage(reason, detail)``, which the
dead-letter step routes with its original bytes; no message raises anything else (JSON nested past the parsers'
recursion limits is ``malformed_json``). ``ts`` is checked the same way as ISO-8601 and as epoch ms (0 <= ms <
10^14), and with ``daemon/bounds.py``'s other per-window bounds (the config's ``input`` section) against the
record's broker timestamp. The structure is checked per message (for JSON a fast path of dict
lookups, the full checks only when it does not match, so the reason is always named); the vectors are checked per
batch: element types in one C-level pass (per row only when it fails), one numpy conversion, vectorised
finiteness. Strings are never coerced to numbers (numpy would turn "1.5" into 1.5): a string is non-numeric, or
non-finite when it spells NaN or infinity. JSON ``NaN``/``Infinity`` literals, which orjson rejects, are told apart
from malformed JSON by the standard library's more permissive parser.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from itertools import chain
from datetime import datetime, timezone
from typing import Any, Sequence

import numpy as np
import orjson

from daemon.wire.binary_codec import MAGIC, parse_binary
from daemon.windows import Windows
from daemon.config import InputConfig

SCHEMA_VERSION = 1


class Reason:
    MALFORMED_JSON = "malformed_json"
    NOT_UTF8 = "not_utf8"
    MISSING_FIELD = "missing_field"
    INVALID_FIELD = "invalid_field"
    WRONG_LENGTH = "wrong_length"
    NON_FINITE = "non_finite"
    NON_NUMERIC = "non_numeric"
    OVERSIZED = "oversized"
    UNKNOWN_SCHEMA = "unknown_schema"
    MALFORMED_BINARY = "malformed_binary"

    ALL = (MALFORMED_JSON, NOT_UTF8, MISSING_FIELD, INVALID_FIELD, WRONG_LENGTH, NON_FINITE, NON_NUMERIC, OVERSIZED,
           UNKNOWN_SCHEMA, MALFORMED_BINARY)


class InvalidMessage(Exception):
    """A message that cannot become a window; ``reason`` is one of ``Reason``, ``detail`` says what was wrong."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Decoded:
    """The result of one batch: valid windows plus (record index, error) for every rejected record."""

    windows: Windows
    rejected: list[tuple[int, InvalidMessage]]


_NUMERIC = frozenset({float, int})
_NONFINITE_WORDS = frozenset({"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})
_NONFINITE_LITERAL = re.compile(rb"NaN|Infinity")
_MAX_TS_MS = 10**14


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
        if not math.isfinite(ts) or not 0 <= ts < _MAX_TS_MS:
            raise InvalidMessage(Reason.INVALID_FIELD, f"ts epoch ms out of range: {ts!r}")
        return int(ts)
    if isinstance(ts, str):
        try:
            dt = datetime.fromisoformat(ts)
        except ValueError:
            raise InvalidMessage(Reason.INVALID_FIELD, f"ts is not ISO-8601: {ts[:64]!r}") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        try:
            ms = int(dt.timestamp() * 1000)
        except (OverflowError, ValueError):
            ms = -1
        if not 0 <= ms < _MAX_TS_MS:  # the epoch-ms range: "0001-01-01T00:00:00+23:59" is year 0 in UTC
            raise InvalidMessage(Reason.INVALID_FIELD, f"ts out of range (1970 to 5138): {ts[:64]!r}")
        return ms
    raise InvalidMessage(Reason.INVALID_FIELD, f"ts must be ISO-8601 or epoch ms, got {type(ts).__name__}")


def parse_window(obj: Any) -> tuple[str, int, list[Any], dict[str, Any] | None]:
    """The structural checks of one decoded message: (asset, ts_ms, values, meta). Values are checked per batch."""
    if not isinstance(obj, dict):
        raise InvalidMessage(Reason.MALFORMED_JSON, f"top level is a JSON {type(obj).__name__}, not an object")
    for name in ("schema", "asset", "ts", "values"):
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


def _to_float32(rows: list[Any], dim: int) -> np.ndarray:
    """Rows (JSON lists of numbers, or a binary message's float32 bytes) -> float32 [n, d]; a float64 beyond
    float32's range becomes inf (and the row is rejected as non-finite)."""
    lists = [j for j, r in enumerate(rows) if type(r) is list]
    x = np.empty((len(rows), dim), dtype=np.float32)
    if lists:
        json_rows = rows if len(lists) == len(rows) else [rows[j] for j in lists]
        try:
            x64 = np.array(json_rows, dtype=np.float64)
        except OverflowError:  # an integer beyond float64; find it row by row (rare)
            x64 = np.array([[float(v) if abs(v) < 1e308 else math.inf for v in r] for r in json_rows])
        with np.errstate(over="ignore"):
            if len(lists) == len(rows):
                return x64.astype(np.float32)
            x[lists] = x64
    binary = [j for j, r in enumerate(rows) if type(r) is not list]
    x[binary] = np.frombuffer(b"".join([rows[j] for j in binary]), dtype="<f4").reshape(len(binary), dim)
    return x


def _decode_one(value: bytes | None, dim: int, max_bytes: int) -> tuple[str, int, Any, dict[str, Any] | None]:
    """(asset, ts_ms, values, meta) of one message; values are a list (JSON) or float32 bytes (binary).

    The common JSON case takes a fast path of dict lookups; anything it does not accept goes through the full
    checks, which name the reason. Element types are checked later, once per batch."""
    if value is not None and len(value) <= max_bytes:
        if value[:2] == MAGIC:
            return parse_binary(value, dim)
        try:
            fields = _fast_fields(orjson.loads(value), dim)
        except orjson.JSONDecodeError:
            fields = None
        if fields is not None:
            asset, ts, values, meta = fields
            return asset, _ts_ms(ts), values, meta
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
    if (type(schema) is int and schema == SCHEMA_VERSION and type(asset) is str and asset and type(values) is list
            and len(values) == dim and (meta is None or type(meta) is dict) and "ts" in obj):
        return asset, obj["ts"], values, meta
    return None


def _ts_ms(ts: Any) -> int:
    return ts if type(ts) is int and 0 <= ts < _MAX_TS_MS else parse_ts(ts)


def _bad_types(rows: list[Any], dim: int) -> dict[int, InvalidMessage]:
    """JSON rows holding something other than numbers: one C-level pass over the batch, per row only if it fails."""
    lists = [r for r in rows if type(r) is list]
    if not lists or _NUMERIC.issuperset(map(type, chain.from_iterable(lists))):
        return {}
    return {j: err for j, row in enumerate(rows) if type(row) is list and (err := check_row_types(row, dim))}


class _Columns:
    """The accepted windows of a batch, column by column, and the rejected records with their reasons."""

    def __init__(self) -> None:
        self.rows: list[Any] = []
        self.keep: list[int] = []
        self.assets: list[str] = []
        self.ts: list[int] = []
        self.metas: list[dict[str, Any] | None] = []
        self.rejected: list[tuple[int, InvalidMessage]] = []

    def drop(self, bad: dict[int, InvalidMessage]) -> list[int]:
        """Move rows ``bad`` (positions in the columns) to ``rejected``; returns the positions kept."""
        self.rejected = sorted(self.rejected + [(self.keep[j], e) for j, e in bad.items()], key=lambda p: p[0])
        ok = [j for j in range(len(self.keep)) if j not in bad]
        self.rows, self.keep, self.assets, self.ts, self.metas = (
            [col[j] for j in ok] for col in (self.rows, self.keep, self.assets, self.ts, self.metas))
        return ok


def decode_batch(records: Sequence[Any], dim: int, max_bytes: int, limits: InputConfig | None = None) -> Decoded:
    """Validate a batch of records (JSON or binary messages, mixed) against a model of width ``dim``, and against
    ``limits`` (``daemon/bounds.py``; the config's defaults when None)."""
    from daemon.wire.bounds import check_bounds  # it imports this module's InvalidMessage

    c = _Columns()
    for i, rec in enumerate(records):
        try:
            asset, ts_ms, values, meta = _decode_one(rec.value, dim, max_bytes)
        except InvalidMessage as e:
            c.rejected.append((i, e))
            continue
        c.rows.append(values)
        c.keep.append(i)
        c.assets.append(asset)
        c.ts.append(ts_ms)
        c.metas.append(meta)
    bad = _bad_types(c.rows, dim)
    bad.update((j, e) for j, e in check_bounds(
        c.assets, c.metas, c.ts, [getattr(records[i], "timestamp", -1) for i in c.keep],
        limits or InputConfig()).items() if j not in bad)
    if bad:
        c.drop(bad)
    x = _to_float32(c.rows, dim) if c.rows else np.empty((0, dim), dtype=np.float32)
    finite = np.isfinite(x).all(axis=1)
    if not finite.all():
        x = x[c.drop({j: InvalidMessage(Reason.NON_FINITE, "a value is NaN, infinite or beyond float32")
                      for j in np.flatnonzero(~finite).tolist()})]
    kept = [records[i] for i in c.keep]
    windows = Windows(
        topic=[r.topic for r in kept],
        partition=np.fromiter((r.partition for r in kept), dtype=np.int32, count=len(kept)),
        offset=np.fromiter((r.offset for r in kept), dtype=np.int64, count=len(kept)),
        key=[r.key for r in kept],
        asset=c.assets,
        ts_ms=np.asarray(c.ts, dtype=np.int64),
        values=x,
        meta=c.metas,
    )
    return Decoded(windows=windows, rejected=c.rejected)
