"""`latentwatch refresh` against the real broker: windows on the input topic, the fault's alerts on the alert
topic; the new reference holds none of the fault's windows."""

from __future__ import annotations

import json
import time

import numpy as np
import orjson
import pytest
import yaml

from daemon.wire.binary_codec import serialize_binary
from latentwatch.cli import main
from pipelines.artifact.store import read_manifest, read_pointer, resolve_current
from pipelines.online import OnlineModel
from tests.pipelines.refresh.conftest import refresh_data, root, traffic, trained_root  # noqa: F401


@pytest.mark.kafka
def test_refresh_from_the_topic_leaves_the_alarmed_fault_out(kafka_bootstrap, kafka_topics, root, traffic, tmp_path):  # noqa: F811
    from kafka import KafkaProducer

    from latentwatch.replay import producer_settings

    X, asset, ts, fault = traffic
    windows, alerts = kafka_topics("refresh-in", partitions=2), kafka_topics("refresh-alerts", partitions=1)
    producer = KafkaProducer(**producer_settings([kafka_bootstrap], linger_ms=5))
    start = int(time.time() * 1000) - 1
    for x, a, t in zip(X, asset, ts, strict=True):
        producer.send(windows, serialize_binary(str(a), int(t), x), key=str(a).encode())
    first, last = int(ts[fault][0]), int(ts[fault][-1])
    episode = {"episode_id": "ep1", "opened_ts": first / 1000, "last_ts": last / 1000}
    for t in ts[fault][:3]:  # the daemon's open and updates, then its close
        doc = {"asset": "a", "ts_ms": int(t), "episode": {**episode, "event": "open"}}
        producer.send(alerts, orjson.dumps(doc), key=b"a")
    close = {"asset": "a", "ts_ms": last + 5000, "episode": {**episode, "event": "close"}}
    producer.send(alerts, orjson.dumps(close), key=b"a")
    producer.flush()
    producer.close()
    end = int(time.time() * 1000) + 1
    cfg = tmp_path / "refresh.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap_servers": [kafka_bootstrap], "input_topic": windows, "alert_topic": alerts},
                "artifact": {"root": str(root)},
                "threshold": {"q": 1e-3, "level": 0.9, "checkpoint_path": str(tmp_path / "daemon-state.json")},
                "refresh": {"exclude_quantile": 1.0},  # only the alerts leave windows out
            }
        )
    )
    before = read_pointer(root)["version"]
    assert main(["refresh", "--config", str(cfg), "--from", str(start), "--to", str(end)]) == 0
    manifest = read_manifest(root, read_pointer(root)["version"])
    counts = manifest["refresh"]
    assert manifest["refreshed_from"] == before and counts["input"]["alerts"] == 3
    assert counts["candidates"] == len(X) and counts["excluded"]["alarmed"] == int(fault.sum())
    assert counts["kept"] == len(X) - int(fault.sum())
    m = OnlineModel.load(resolve_current(root))
    try:
        z = m.model.encode(X)[1]
        dist = m.reference.index.query(z, 1)[1][:, 0]
        # every normal window of the reference part has a (near) copy in it; no fault window does
        assert np.min(dist[fault]) > 10 * np.median(dist[~fault][:600])
    finally:
        m.close()
    assert json.loads((root / "current.json").read_text())["version"] != before
