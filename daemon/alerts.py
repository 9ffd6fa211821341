"""Alert messages: one JSON per episode event, keyed by asset, with an id a replay reproduces.

Ids never depend on time or on batch boundaries, so a crash and replay produce the same ids and a consumer can
deduplicate: an ``open`` or ``update`` alert's id hashes where its window sits in Kafka (topic, partition, offset);
a ``close`` alert's id hashes its episode id, itself a hash of the asset and the opening window's
"topic:partition:offset". An episode closes once, whether a quiet window or the watermark sweep closes it.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any, Mapping

import orjson


def alert_id(topic: str, partition: int, offset: int, event: str) -> str:
    return hashlib.sha256(f"{topic}\x00{partition}\x00{offset}\x00{event}".encode()).hexdigest()[:32]


def close_alert_id(episode_id: str) -> str:
    return hashlib.sha256(f"episode\x00{episode_id}\x00close".encode()).hexdigest()[:32]


def ts_iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def build_alert(*, topic: str, partition: int, offset: int, asset: str, ts_ms: int, score: float,
                components: Mapping[str, float], threshold: Mapping[str, Any], artifact_version: str,
                neighbours: list[int], episode: Mapping[str, Any], meta: Mapping[str, Any] | None = None) -> bytes:
    """The alert for a window: an ``open``/``update`` on an alarm, or the ``close`` a quiet window triggered."""
    event = str(episode["event"])
    doc = {
        "alert_id": close_alert_id(str(episode["episode_id"])) if event == "close"
        else alert_id(topic, partition, offset, event),
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
