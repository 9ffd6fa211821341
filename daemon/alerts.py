"""Alert messages: one JSON per episode event, keyed by asset, with an id a replay reproduces.

``alert_id`` is derived from where the triggering window sits in Kafka (topic, partition, offset) and the event kind,
never from time, so a crash and replay produce the same ids and a consumer can deduplicate.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any, Mapping

import orjson


def alert_id(topic: str, partition: int, offset: int, event: str) -> str:
    return hashlib.sha256(f"{topic}\x00{partition}\x00{offset}\x00{event}".encode()).hexdigest()[:32]


def ts_iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def build_alert(*, topic: str, partition: int, offset: int, asset: str, ts_ms: int, score: float,
                components: Mapping[str, float], threshold: Mapping[str, Any], artifact_version: str,
                neighbours: list[int], episode: Mapping[str, Any], meta: Mapping[str, Any] | None = None) -> bytes:
    event = str(episode["event"])
    doc = {
        "alert_id": alert_id(topic, partition, offset, event),
        "asset": asset,
        "ts": ts_iso(ts_ms),
        "ts_ms": int(ts_ms),
        "score": float(score),
        "components": {k: float(v) for k, v in components.items()},
        "threshold": dict(threshold),
        "artifact_version": artifact_version,
        "neighbours": [int(n) for n in neighbours],
        "episode": dict(episode),
        "source": {"topic": topic, "partition": int(partition), "offset": int(offset)},
        "meta": dict(meta) if meta else None,
    }
    return orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)
