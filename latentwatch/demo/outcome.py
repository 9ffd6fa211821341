"""What came out of a demo run: episodes from the alert topic and the final checkpoint, scored against the runs'
labelled anomaly segments."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any


def _segments(y: Any) -> list[tuple[int, int]]:
    """(first, last) window index of every contiguous labelled-anomalous span."""
    import numpy as np

    d = np.diff(np.concatenate([[0], np.asarray(y, dtype=np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), (np.flatnonzero(d == -1) - 1).tolist(), strict=True))


def episodes_from(alerts: list[dict[str, Any]], open_at_end: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Episode id -> the latest we know of it: from the alerts, completed by the final checkpoint's open episodes."""
    eps: dict[str, dict[str, Any]] = {}
    for a in alerts:
        ep = a.get("episode") or {}
        eid = ep.get("episode_id")
        if not eid:
            continue
        cur = eps.setdefault(
            eid,
            {
                "episode_id": eid,
                "asset": a["asset"],
                "opened_ts": ep.get("opened_ts"),
                "last_ts": ep.get("last_ts"),
                "n_alarms": 0,
                "max_score": None,
                "closed": False,
                "events": Counter(),
            },
        )
        cur["events"][ep.get("event")] += 1
        cur["last_ts"] = max(cur["last_ts"] or 0, ep.get("last_ts") or 0)
        cur["n_alarms"] = max(cur["n_alarms"], int(ep.get("n_alarms") or 0))
        if ep.get("max_score") is not None:
            cur["max_score"] = max(cur["max_score"] or float("-inf"), float(ep["max_score"]))
        if ep.get("event") == "close":
            cur["closed"] = True
            cur["closed_ts_ms"] = a.get("ts_ms")  # the window whose quiet closed it (None: a sweep's close)
    for asset, ep in (open_at_end or {}).items():
        cur = eps.setdefault(
            ep["episode_id"],
            {
                "episode_id": ep["episode_id"],
                "asset": asset,
                "opened_ts": ep["opened_ts"],
                "last_ts": ep["last_ts"],
                "n_alarms": 0,
                "max_score": None,
                "closed": False,
                "events": Counter(),
            },
        )
        cur["last_ts"] = max(cur["last_ts"] or 0, ep["last_ts"])
        cur["n_alarms"] = max(cur["n_alarms"], int(ep["n_alarms"]))
        cur["open_at_end"] = True
    return eps


def score_runs(streams: list[Any], episodes: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], dict]:
    """Per run: was its labelled anomaly segment overlapped by an episode (detected), and how many episodes lay
    entirely in normal windows (false). An episode spans [opened_ts, last alarm ts] in event time."""
    import numpy as np

    by_asset: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ep in episodes.values():
        by_asset[ep["asset"]].append(ep)
    runs, n_detected, n_with_anomaly, false_total, true_total = [], 0, 0, 0, 0
    normal_windows = 0
    for s in streams:
        ts, y = np.asarray(s.ts_ms, dtype=np.int64), np.asarray(s.y)
        segs = _segments(y)
        normal_windows += int((y == 0).sum())
        seg_hit = [None] * len(segs)
        n_false = n_true = 0
        for ep in sorted(by_asset.get(s.asset, []), key=lambda e: e["opened_ts"]):
            lo, hi = int(round(ep["opened_ts"] * 1000)), int(round(ep["last_ts"] * 1000))
            inside = (ts >= lo) & (ts <= hi)
            hit = False
            for j, (a, b) in enumerate(segs):
                if inside[a : b + 1].any():
                    hit = True
                    if seg_hit[j] is None:
                        seg_hit[j] = (lo - int(ts[a])) / 1000.0
            ep["true"] = hit
            n_true += hit
            n_false += not hit
        detected = bool(segs) and all(h is not None for h in seg_hit)
        n_with_anomaly += bool(segs)
        n_detected += detected
        false_total += n_false
        true_total += n_true
        runs.append(
            {
                "asset": s.asset,
                "windows": int(len(y)),
                "anomalous_windows": int((y == 1).sum()),
                "segments": len(segs),
                "segments_detected": sum(h is not None for h in seg_hit),
                "detected": detected,
                "delay_s": seg_hit[0] if segs and seg_hit[0] is not None else None,
                "episodes": n_true + n_false,
                "true_episodes": n_true,
                "false_episodes": n_false,
            }
        )
    totals = {
        "runs": len(runs),
        "runs_with_anomaly": n_with_anomaly,
        "runs_detected": n_detected,
        "detection_rate": round(n_detected / n_with_anomaly, 4) if n_with_anomaly else None,
        "episodes": len(episodes),
        "true_episodes": true_total,
        "false_episodes": false_total,
        "normal_windows": normal_windows,
        "false_episodes_per_1000_normal_windows": round(1000 * false_total / normal_windows, 3)
        if normal_windows
        else None,
    }
    return runs, totals


def dead_letters_from(records: list[Any]) -> list[dict[str, Any]]:
    """The dead-letter topic's records as (reason, source topic, partition, offset), from their headers."""
    out = []
    for r in records:
        h = {key: v.decode("utf-8", "replace") for key, v in r.headers}
        out.append(
            {
                "reason": h.get("reason"),
                "partition": int(h.get("source_partition", -1)),
                "offset": int(h.get("source_offset", -1)),
                "topic": h.get("source_topic"),
            }
        )
    return out


def match_bad_messages(bad_sent: list[dict[str, Any]], dead_letters: list[dict[str, Any]], topic: str) -> None:
    """Mark each injected bad message with the reason it was dead-lettered under (None: not dead-lettered) and
    whether that is its own kind."""
    by_source = {(d["partition"], d["offset"]): d["reason"] for d in dead_letters if d["topic"] == topic}
    for b in bad_sent:
        b["dead_lettered_as"] = by_source.get((b["partition"], b["offset"]))
        b["ok"] = b["dead_lettered_as"] == b["kind"]


def reasons(dead_letters: list[dict[str, Any]]) -> dict[str, int]:
    return dict(sorted(Counter(d["reason"] for d in dead_letters).items()))
