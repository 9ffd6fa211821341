"""What a replay sends: a window in the daemon's input format (JSON or binary), or a message it must dead-letter."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from daemon.wire.binary_codec import serialize_binary
from daemon.wire.json_codec import serialize_json
from daemon.wire.schema import SCHEMA_VERSION, Reason
from latentwatch.replay.plan import Window

# The dead-letter classes a replay can produce, in the order they are injected.
BAD_KINDS: tuple[str, ...] = (
    Reason.MALFORMED_JSON,
    Reason.NOT_UTF8,
    Reason.MISSING_FIELD,
    Reason.INVALID_FIELD,
    Reason.WRONG_LENGTH,
    Reason.NON_FINITE,
    Reason.NON_NUMERIC,
    Reason.UNKNOWN_SCHEMA,
    Reason.OVERSIZED,
)
# A Kafka record value above about this many bytes is refused by a default broker (message.max.bytes ~ 1 MiB), so an
# "oversized" message is only produced when the daemon's dead_letter.max_bytes is below it.
MAX_PRODUCIBLE_BYTES = 1_000_000

ENCODINGS = ("json", "binary")


def serialize_window(w: Window, source: str, encoding: str = "json") -> bytes:
    meta: dict[str, Any] = {"source": source, "label": w.label, "index": w.index}
    if w.loop:
        meta["loop"] = w.loop
    if encoding == "binary":
        return serialize_binary(w.asset, w.ts_ms, w.values, meta)
    return serialize_json(w.asset, w.ts_ms, w.values, meta)


def bad_message(kind: str, w: Window, source: str, oversized_bytes: int | None = None) -> bytes:
    """A message built from window ``w`` that the daemon must dead-letter with reason ``kind``."""
    doc: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "asset": w.asset,
        "ts": w.ts_ms,
        "values": [float(v) for v in w.values],
        "meta": {"source": source, "bad": kind},
    }
    if kind == Reason.MALFORMED_JSON:
        return orjson.dumps(doc)[:-7]
    if kind == Reason.NOT_UTF8:
        return b"\xff\xfe" + orjson.dumps(doc)
    if kind == Reason.MISSING_FIELD:
        del doc["values"]
    elif kind == Reason.INVALID_FIELD:
        doc["ts"] = "not-a-time"
    elif kind == Reason.WRONG_LENGTH:
        doc["values"] = doc["values"] + [0.0]
    elif kind == Reason.NON_FINITE:  # the NaN literal Python's json and Java's writers emit, which orjson refuses
        doc["values"][0] = 123456789.0
        return orjson.dumps(doc).replace(b"123456789.0", b"NaN", 1)
    elif kind == Reason.NON_NUMERIC:
        doc["values"][0] = "high"
    elif kind == Reason.UNKNOWN_SCHEMA:
        doc["schema"] = SCHEMA_VERSION + 98
    elif kind == Reason.OVERSIZED:
        if oversized_bytes is None:
            raise ValueError("an oversized message needs the daemon's dead_letter.max_bytes")
        doc["meta"]["pad"] = ""
        doc["meta"]["pad"] = "x" * max(0, oversized_bytes - len(orjson.dumps(doc)))
        return orjson.dumps(doc)
    else:
        raise ValueError(f"unknown dead-letter kind {kind!r}; known: {', '.join(BAD_KINDS)}")
    return orjson.dumps(doc)


def usable_bad_kinds(kinds: Iterable[str], max_bytes: int | None) -> tuple[tuple[str, ...], str | None]:
    """The kinds that can be produced, and why one was left out (oversized needs max_bytes below the broker limit)."""
    kinds = tuple(kinds)
    for k in kinds:
        if k not in BAD_KINDS:
            raise ValueError(f"unknown dead-letter kind {k!r}; known: {', '.join(BAD_KINDS)}")
    if Reason.OVERSIZED in kinds and (max_bytes is None or max_bytes + 1 > MAX_PRODUCIBLE_BYTES):
        why = (
            f"{Reason.OVERSIZED} left out: the daemon's dead_letter.max_bytes ({max_bytes}) is not below what the "
            f"broker accepts (~{MAX_PRODUCIBLE_BYTES} bytes); give --config with a smaller max_bytes to include it"
        )
        return tuple(k for k in kinds if k != Reason.OVERSIZED), why
    return kinds, None
