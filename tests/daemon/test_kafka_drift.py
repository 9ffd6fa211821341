"""Drift on the real broker: a daemon fed SKAB's self-drifting anomaly-free run (tests/daemon/drift_data.py) writes
the refresh request for the drifting asset, with ``since``, and counts it on /metrics."""

from __future__ import annotations

import json
import urllib.request

import pytest

from daemon.config import load_config
from daemon.threshold_guard import REQUEST_FILE
from tests.daemon.drift_data import messages, skab_drift
from tests.daemon.kafka_io import produce

pytestmark = pytest.mark.kafka


def test_a_drifting_stream_requests_a_refresh(tmp_path_factory, make_config, start_daemon, kafka_bootstrap):
    base, streams = skab_drift(tmp_path_factory.mktemp("drift-kafka"))
    path = make_config("drift", artifact={"root": None, "path": str(base)}, threshold={"method": "spot"})
    cfg = load_config(path)
    items = messages(streams)
    produce(kafka_bootstrap, cfg.kafka.input_topic, [(a.encode(), m) for a, _, m in items])
    run = start_daemon(path)
    run.wait_for(lambda: run.daemon.metrics.scored._value.get() >= len(items), timeout=180, what="every window")
    # a batch's windows are counted before its drift detectors are fed (same callback): wait for the last batch's too
    run.wait_for(lambda: run.daemon.metrics.drift_detected._value.get() >= 1, timeout=30, what="the drift")
    with urllib.request.urlopen(f"http://127.0.0.1:{run.daemon.http.port}/metrics", timeout=5) as r:
        metrics = r.read().decode()
    assert "latentwatch_drift_detected_total 1.0" in metrics
    assert run.stop() == 0
    requests = json.loads((cfg.threshold.checkpoint_path.parent / REQUEST_FILE).read_text())["requests"]
    (entry,) = [r for r in requests if r["source"] == "drift"]  # the threshold guard may ask too, on its own
    assert entry["asset"] == "pump-drifting" and entry["since"].startswith("2020-02-08T")
