"""A batch of Kafka records to ``Windows``: each message parsed on its own (JSON or binary, mixed), then the vectors
of the whole batch checked together.

A message that cannot become a window is collected as ``InvalidMessage(reason, detail)``, which the dead-letter step
routes with its original bytes; no message raises anything else. Beside the schema, each window keeps the bounds of
the config's ``input`` section (``daemon/wire/bounds.py``, ``ts`` against the record's broker timestamp). The
vectors are checked per batch: element types in one C-level pass (per row only when it fails), one numpy
conversion, vectorised finiteness.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from daemon.config import InputConfig
from daemon.windows import Windows
from daemon.wire.binary_codec import is_binary, parse_binary
from daemon.wire.bounds import check_bounds
from daemon.wire.json_codec import bad_types, parse_message
from daemon.wire.schema import InvalidMessage, Reason


@dataclass(frozen=True)
class Decoded:
    """The result of one batch: valid windows plus (record index, error) for every rejected record."""

    windows: Windows
    rejected: list[tuple[int, InvalidMessage]]


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
    """(asset, ts_ms, values, meta) of one message; values are a list (JSON) or float32 bytes (binary)."""
    if value is not None and len(value) <= max_bytes and is_binary(value):
        return parse_binary(value, dim)
    return parse_message(value, dim, max_bytes)


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
        self.rows = [self.rows[j] for j in ok]
        self.keep = [self.keep[j] for j in ok]
        self.assets = [self.assets[j] for j in ok]
        self.ts = [self.ts[j] for j in ok]
        self.metas = [self.metas[j] for j in ok]
        return ok


def decode_batch(records: Sequence[Any], dim: int, max_bytes: int, limits: InputConfig | None = None) -> Decoded:
    """Validate a batch of records (JSON or binary messages, mixed) against a model of width ``dim``, and against
    ``limits`` (``daemon/wire/bounds.py``; the config's defaults when None)."""
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
    bad = bad_types(c.rows, dim)
    bad.update(
        (j, e)
        for j, e in check_bounds(
            c.assets, c.metas, c.ts, [getattr(records[i], "timestamp", -1) for i in c.keep], limits or InputConfig()
        ).items()
        if j not in bad
    )
    if bad:
        c.drop(bad)
    x = _to_float32(c.rows, dim) if c.rows else np.empty((0, dim), dtype=np.float32)
    finite = np.isfinite(x).all(axis=1)
    if not finite.all():
        x = x[
            c.drop(
                {
                    j: InvalidMessage(Reason.NON_FINITE, "a value is NaN, infinite or beyond float32")
                    for j in np.flatnonzero(~finite).tolist()
                }
            )
        ]
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
