"""The bounds a decoded window must also keep (``input`` in the config), checked once per batch after decoding.

Each guards a later step against one message: a ``ts`` far from the record's broker timestamp pins the episode
watermark (a window dated 9999 keeps every episode of its partition from closing by time); ``meta`` is copied whole
into the window's alerts, so one nested past what orjson writes (255 levels), holding an integer beyond 64 bits, or
re-serialising larger than the broker takes (``1e15`` is written back as ``1000000000000000.0``) would make its alert
unsendable; an ``asset`` is a Kafka key, a label and a state entry. A window outside a bound is dead-lettered with
``invalid_field`` and a detail naming the bound.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import orjson

from daemon.config import InputConfig
from daemon.wire.schema import InvalidMessage, Reason


def meta_depth(obj: Any) -> int:
    """Nesting depth of a JSON value (a scalar is 0, ``{}`` is 1), without recursion."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def check_meta(meta: dict[str, Any] | None, limits: InputConfig) -> InvalidMessage | None:
    if not meta:
        return None
    try:
        text = orjson.dumps(meta)
    except TypeError as e:  # orjson.JSONEncodeError: deeper than 255 levels, or an integer beyond 64 bits
        depth = meta_depth(meta)
        if depth > limits.meta_max_depth:
            return InvalidMessage(
                Reason.INVALID_FIELD, f"meta nests {depth} levels deep > input.meta_max_depth {limits.meta_max_depth}"
            )
        return InvalidMessage(Reason.INVALID_FIELD, f"meta cannot be written back as JSON for an alert: {e}")
    if len(text) > limits.meta_max_bytes:
        return InvalidMessage(
            Reason.INVALID_FIELD, f"meta is {len(text)} bytes as JSON > input.meta_max_bytes {limits.meta_max_bytes}"
        )
    if text.count(b"{") + text.count(b"[") > limits.meta_max_depth:  # else it cannot nest that deep
        depth = meta_depth(meta)
        if depth > limits.meta_max_depth:
            return InvalidMessage(
                Reason.INVALID_FIELD, f"meta nests {depth} levels deep > input.meta_max_depth {limits.meta_max_depth}"
            )
    return None


def check_ts(ts_ms: np.ndarray, record_ts_ms: np.ndarray, limits: InputConfig) -> dict[int, InvalidMessage]:
    """Windows whose ``ts`` lies further ahead of (or behind) their record's timestamp than the tolerance; a record
    without a timestamp (-1) is not checked. Vectorised over the batch."""
    out: dict[int, InvalidMessage] = {}
    known = record_ts_ms >= 0
    skew_s = (ts_ms - record_ts_ms) / 1000.0
    for side, limit, bad in (
        ("ahead of", limits.ts_max_ahead_s, skew_s > (limits.ts_max_ahead_s or 0)),
        ("behind", limits.ts_max_behind_s, -skew_s > (limits.ts_max_behind_s or 0)),
    ):
        if limit is None:
            continue
        key = "ts_max_ahead_s" if side == "ahead of" else "ts_max_behind_s"
        for j in np.flatnonzero(bad & known).tolist():
            out[j] = InvalidMessage(
                Reason.INVALID_FIELD,
                f"ts {int(ts_ms[j])} is {abs(skew_s[j]):.0f} s {side} the "
                f"record's timestamp {int(record_ts_ms[j])} "
                f"(input.{key} {limit:g})",
            )
    return out


def check_bounds(
    assets: Sequence[str],
    metas: Sequence[dict[str, Any] | None],
    ts_ms: Sequence[int],
    record_ts_ms: Sequence[int],
    limits: InputConfig,
) -> dict[int, InvalidMessage]:
    """Position -> error for every window of the batch outside a bound (asset length, meta, ts)."""
    bad: dict[int, InvalidMessage] = {}
    for j, asset in enumerate(assets):
        if len(asset) > limits.asset_max_chars:
            bad[j] = InvalidMessage(
                Reason.INVALID_FIELD,
                f"asset is {len(asset)} characters > input.asset_max_chars {limits.asset_max_chars}",
            )
    for j, meta in enumerate(metas):
        if meta and j not in bad and (err := check_meta(meta, limits)) is not None:
            bad[j] = err
    ts_bad = check_ts(np.asarray(ts_ms, dtype=np.int64), np.asarray(record_ts_ms, dtype=np.int64), limits)
    return {**ts_bad, **bad}
