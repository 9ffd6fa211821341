"""Decode and validate windows: JSON per message (orjson, one C call each), then the vectors of the whole batch.

Input, one Kafka message per window, keyed by asset::

    {"schema": 1, "asset": "pump-7", "ts": "2024-05-01T12:00:00Z" | 1714564800000, "values": [0.1, ...], "meta": {}}

A message that cannot become a window raises (or is collected as) ``InvalidMessage(reason, detail)``, which the
dead-letter step routes with its original bytes. The structural checks run per message; the vector checks run on the
batch: lengths and element types by C-level calls per row, then one numpy conversion, then vectorised finiteness.
Strings are never coerced to numbers (numpy would turn "1.5" into 1.5): a string is non-numeric, or non-finite
when it spells NaN or infinity. JSON ``NaN``/``Infinity`` literals, which orjson rejects, are told apart from
malformed JSON by the standard library's more permissive parser.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

import numpy as np
import orjson

from daemon.windows import Windows

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

    ALL = (MALFORMED_JSON, NOT_UTF8, MISSING_FIELD, INVALID_FIELD, WRONG_LENGTH, NON_FINITE, NON_NUMERIC, OVERSIZED,
           UNKNOWN_SCHEMA)


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


def parse_json(value: bytes | None, max_bytes: int) -> Any:
    if value is None:
        raise InvalidMessage(Reason.MALFORMED_JSON, "empty value (tombstone)")
    if len(value) > max_bytes:
        raise InvalidMessage(Reason.OVERSIZED, f"{len(value)} bytes > dead_letter.max_bytes {max_bytes}")
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as e:
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError as u:
            raise InvalidMessage(Reason.NOT_UTF8, f"invalid UTF-8 at byte {u.start}") from None
        try:
            obj = json.loads(text)  # accepts NaN/Infinity literals and overflowing numbers, which orjson rejects
        except ValueError:
            raise InvalidMessage(Reason.MALFORMED_JSON, str(e)) from None
        if _NONFINITE_LITERAL.search(value) or "infinity" in str(e):
            raise InvalidMessage(Reason.NON_FINITE, "NaN or Infinity in the JSON") from None
        return obj


def parse_ts(ts: Any) -> int:
    """Epoch milliseconds (UTC) from epoch ms or an ISO-8601 string (a naive one is taken as UTC)."""
    if isinstance(ts, bool) or ts is None:
        raise InvalidMessage(Reason.INVALID_FIELD, f"ts must be ISO-8601 or epoch ms, got {ts!r}")
    if isinstance(ts, (int, float)):
        if not math.isfinite(ts) or not 0 <= ts < 1e14:
            raise InvalidMessage(Reason.INVALID_FIELD, f"ts epoch ms out of range: {ts!r}")
        return int(ts)
    if isinstance(ts, str):
        try:
            dt = datetime.fromisoformat(ts)
        except ValueError:
            raise InvalidMessage(Reason.INVALID_FIELD, f"ts is not ISO-8601: {ts[:64]!r}") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return int(dt.timestamp() * 1000)
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


def _to_float32(rows: list[list[Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Rows -> float32 [n, d] and a per-row ok mask (False for non-finite, or beyond float32's range)."""
    try:
        x64 = np.array(rows, dtype=np.float64)
    except OverflowError:  # an integer beyond float64; find it row by row (rare)
        x64 = np.array([[float(v) if abs(v) < 1e308 else math.inf for v in r] for r in rows], dtype=np.float64)
    with np.errstate(over="ignore"):
        x32 = x64.astype(np.float32)
    return x32, np.isfinite(x32).all(axis=1)


def decode_batch(records: Sequence[Any], dim: int, max_bytes: int) -> Decoded:
    """Validate a batch of records against a model of width ``dim``."""
    rows: list[list[Any]] = []
    keep: list[int] = []
    assets: list[str] = []
    ts: list[int] = []
    metas: list[dict[str, Any] | None] = []
    rejected: list[tuple[int, InvalidMessage]] = []
    for i, rec in enumerate(records):
        try:
            asset, ts_ms, values, meta = parse_window(parse_json(rec.value, max_bytes))
            bad = check_row_types(values, dim)
            if bad is not None:
                raise bad
        except InvalidMessage as e:
            rejected.append((i, e))
            continue
        rows.append(values)
        keep.append(i)
        assets.append(asset)
        ts.append(ts_ms)
        metas.append(meta)
    x = np.empty((0, dim), dtype=np.float32)
    if rows:
        x, finite = _to_float32(rows)
        if not finite.all():
            for j in np.flatnonzero(~finite).tolist():
                rejected.append((keep[j], InvalidMessage(Reason.NON_FINITE, "a value is NaN, infinite or beyond float32")))
            x = x[finite]
            keep = [k for k, f in zip(keep, finite.tolist()) if f]
            assets = [a for a, f in zip(assets, finite.tolist()) if f]
            ts = [t for t, f in zip(ts, finite.tolist()) if f]
            metas = [m for m, f in zip(metas, finite.tolist()) if f]
            rejected.sort(key=lambda p: p[0])
    kept = [records[i] for i in keep]
    windows = Windows(
        topic=[r.topic for r in kept],
        partition=np.fromiter((r.partition for r in kept), dtype=np.int32, count=len(kept)),
        offset=np.fromiter((r.offset for r in kept), dtype=np.int64, count=len(kept)),
        key=[r.key for r in kept],
        asset=assets,
        ts_ms=np.asarray(ts, dtype=np.int64),
        values=x,
        meta=metas,
    )
    return Decoded(windows=windows, rejected=rejected)
