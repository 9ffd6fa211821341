from __future__ import annotations

import orjson

from daemon.wire.alert import alert_id, build_alert, ts_iso


def test_alert_id_is_deterministic_and_depends_on_position_and_event():
    a = alert_id("latentwatch.windows", 2, 41, "open")
    assert a == alert_id("latentwatch.windows", 2, 41, "open")
    assert len(a) == 32 and int(a, 16) >= 0
    others = {
        alert_id("latentwatch.windows", 2, 42, "open"),
        alert_id("latentwatch.windows", 3, 41, "open"),
        alert_id("other", 2, 41, "open"),
        alert_id("latentwatch.windows", 2, 41, "close"),
    }
    assert a not in others and len(others) == 4
    # no separator ambiguity: ("t1", 23) and ("t12", 3) differ
    assert alert_id("t1", 23, 4, "open") != alert_id("t12", 3, 4, "open")


def test_alert_document():
    raw = build_alert(
        topic="w",
        partition=1,
        offset=9,
        asset="pump-1",
        ts_ms=1_714_564_800_000,
        score=3.5,
        components={"recon": 1.25},
        threshold={"value": 2.0, "method": "dspot", "q": 1e-4, "level": 0.98, "n_peaks": 40},
        artifact_version="v1",
        neighbours=[5, 7],
        episode={"episode_id": "e1", "event": "open"},
        meta={"line": "A"},
    )
    doc = orjson.loads(raw)
    assert doc["alert_id"] == alert_id("w", 1, 9, "open")
    assert doc["ts"] == "2024-05-01T12:00:00.000Z" and doc["ts_ms"] == 1_714_564_800_000
    assert doc["threshold"]["n_peaks"] == 40 and doc["components"] == {"recon": 1.25}
    assert doc["source"] == {"topic": "w", "partition": 1, "offset": 9}
    assert doc["episode"] == {"episode_id": "e1", "event": "open"} and doc["neighbours"] == [5, 7]
    assert doc["meta"] == {"line": "A"} and doc["artifact_version"] == "v1"


def test_ts_iso():
    assert ts_iso(0) == "1970-01-01T00:00:00.000Z"


def test_close_alert_id_comes_from_the_episode_whatever_window_closes_it():
    from daemon.wire.alert import build_sweep_close, close_alert_id

    kw = dict(
        partition=1,
        asset="a",
        ts_ms=0,
        score=0.1,
        components={},
        threshold={},
        artifact_version="v",
        neighbours=[],
        episode={"episode_id": "e9", "event": "close"},
    )
    one = orjson.loads(build_alert(topic="w", offset=10, **kw))
    two = orjson.loads(build_alert(topic="w", offset=99, **kw))
    swept = orjson.loads(
        build_sweep_close(
            asset="a", watermark_ms=5, artifact_version="v", episode={"episode_id": "e9", "event": "close"}
        )
    )
    assert one["alert_id"] == two["alert_id"] == swept["alert_id"] == close_alert_id("e9")
    assert swept["score"] is None and swept["source"] is None


def test_an_alert_over_the_record_limit_drops_meta_first_and_says_so():
    from daemon.wire.alert import fit_alert
    from daemon.wire.sizes import record_size

    raw = build_alert(
        topic="w",
        partition=1,
        offset=9,
        asset="pump-1",
        ts_ms=1_714_564_800_000,
        score=3.5,
        components={"recon": 1.25},
        threshold={"value": 2.0},
        artifact_version="v1",
        neighbours=list(range(50)),
        episode={"episode_id": "e1", "event": "open"},
        meta={"blob": "x" * 5000},
    )
    assert fit_alert(b"pump-1", raw, 1_048_576) == (raw, [])
    value, headers = fit_alert(b"pump-1", raw, 2000)
    doc = orjson.loads(value)
    assert record_size(b"pump-1", value, headers) <= 2000
    assert doc["meta"] is None and doc["neighbours"] == list(range(50))  # only what was needed went
    assert doc["truncated"] == {"dropped": ["meta"], "original_bytes": len(raw)}
    assert dict(headers) == {"truncated": b"meta", "original_bytes": str(len(raw)).encode()}
    assert doc["alert_id"] == alert_id("w", 1, 9, "open") and doc["score"] == 3.5
    value, headers = fit_alert(b"pump-1", raw, 600)  # meta is not enough: the neighbours go next
    doc = orjson.loads(value)
    assert doc["truncated"]["dropped"][:2] == ["meta", "neighbours"] and doc["neighbours"] == []
    assert record_size(b"pump-1", value, headers) <= 600
