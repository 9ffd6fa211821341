"""Alert messages: one JSON per episode event, keyed by asset, with an id a replay reproduces.

Ids never depend on time or on batch boundaries, so a crash and replay produce the same ids and a consumer can
deduplicate: an ``open`` or ``update`` alert's id hashes where its window sits in Kafka (topic, partition, offset);
a ``close`` alert's id hashes its episode id, itself a hash of the asset and the opening window's
"topic:partition:offset". An episode closes once, whether a quiet window or the watermark sweep closes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from daemon.wire.sizes import record_size


def alert_id(topic: str, partition: int, offset: int, event: str) -> str:
    return hashlib.sha256(f"{topic}\x00{partition}\x00{offset}\x00{event}".encode()).hexdigest()[:32]


def close_alert_id(episode_id: str) -> str:
    return hashlib.sha256(f"episode\x00{episode_id}\x00close".encode()).hexdigest()[:32]


def ts_iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_alert(
    *,
    topic: str,
    partition: int,
    offset: int,
    asset: str,
    ts_ms: int,
    score: float,
    components: Mapping[str, float],
    threshold: Mapping[str, Any],
    artifact_version: str,
    neighbours: list[int],
    episode: Mapping[str, Any],
    meta: Mapping[str, Any] | None = None,
    reference: str = "global",
    sensors: list[Mapping[str, Any]] | None = None,
) -> bytes:
    """The alert for a window: an ``open``/``update`` on an alarm, or the ``close`` a quiet window triggered.

    ``reference``: what the window was scored against ("global" or "asset:<key>"); ``sensors``: the sensors that
    drive its score, largest share first ([{"sensor", "share"}], ``pipelines.explain``)."""
    event = str(episode["event"])
    doc = {
        "alert_id": close_alert_id(str(episode["episode_id"]))
        if event == "close"
        else alert_id(topic, partition, offset, event),
        "asset": asset,
        "ts": ts_iso(ts_ms),
        "ts_ms": int(ts_ms),
        "score": float(score),
        "components": {k: float(v) for k, v in components.items()},
        "threshold": dict(threshold),
        "artifact_version": artifact_version,
        "neighbours": [int(n) for n in neighbours],
        "reference": reference,
        "sensors": [dict(s) for s in sensors or ()],
        "episode": dict(episode),
        "source": {"topic": topic, "partition": int(partition), "offset": int(offset)},
        "meta": dict(meta) if meta else None,
    }
    return orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)


# What an alert too large for the broker drops, in this order, until it fits; what identifies it (id, asset, time,
# score, threshold, episode, source) always stays.
DROPPABLE = ("meta", "neighbours", "sensors", "components")


def fit_alert(key: bytes | None, value: bytes, limit: int) -> tuple[bytes, list[tuple[str, bytes]]]:
    """(value, headers) of an alert that fits a record limit of ``limit`` bytes. One that does not (``meta`` is
    bounded at decode, but the bounds are configurable) loses its fields in ``DROPPABLE`` order, gets
    ``"truncated": {"dropped": [...], "original_bytes": n}``, and the headers ``truncated`` and ``original_bytes``."""
    if record_size(key, value, []) <= limit:
        return value, []
    doc = orjson.loads(value)
    dropped: list[str] = []
    for name in DROPPABLE:
        if doc.get(name) in (None, [], {}):
            continue
        doc[name] = None if name == "meta" else type(doc[name])()
        dropped.append(name)
        doc["truncated"] = {"dropped": dropped, "original_bytes": len(value)}
        out = orjson.dumps(doc)
        headers = [("truncated", ",".join(dropped).encode()), ("original_bytes", str(len(value)).encode())]
        if record_size(key, out, headers) <= limit:
            return out, headers
    raise ValueError(f"an alert of {len(value)} bytes does not fit {limit} even without {', '.join(DROPPABLE)}")


def build_sweep_close(*, asset: str, watermark_ms: int, artifact_version: str, episode: Mapping[str, Any]) -> bytes:
    """The ``close`` of an episode whose asset went quiet without sending a window: no window, so no score."""
    doc = {
        "alert_id": close_alert_id(str(episode["episode_id"])),
        "asset": asset,
        "ts": ts_iso(watermark_ms),
        "ts_ms": int(watermark_ms),
        "score": None,
        "components": {},
        "threshold": None,
        "artifact_version": artifact_version,
        "neighbours": [],
        "episode": dict(episode),
        "source": None,
        "meta": None,
    }
    return orjson.dumps(doc)
