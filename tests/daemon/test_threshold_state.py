"""Threshold state in the daemon: old checkpoints load or are refused with a reason; a tripped runaway guard is
logged, counted, shown in /healthz and written as a refresh request."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import structlog
from kafka.structs import TopicPartition

from daemon.config import Config, HttpConfig, ThresholdConfig
from daemon.inmemory import MemoryProducer
from daemon.service import Daemon
from daemon.threshold_guard import REQUEST_FILE
from tests.daemon.helpers import STAND_IN_TRACKER, Rec, StandInModel, checkpoint_as_format1, window
from tests.daemon.test_service import consumer_of, restored_daemon


def daemon(tmp_path: Path, **threshold) -> Daemon:
    cfg = Config(threshold=ThresholdConfig(checkpoint_path=tmp_path / "state" / "daemon-state.json", **threshold))
    return restored_daemon(cfg)


def as_before_the_guard(state: dict, absorb_after) -> dict:
    """What a checkpoint of the previous release holds: absorb_after in the key and in each DSPOT's params, a
    "run" counter, no guard fields, no bank "sources"."""
    state["threshold_config"].pop("max_shape")
    state["threshold_config"].pop("max_peak_ratio")
    state["threshold_config"]["absorb_after"] = absorb_after
    bank = state["thresholds"]
    bank.pop("sources")
    for det in [bank["calibration"], *bank["assets"].values()]:
        for k in ("clock", "peak_clock", "guard", "shape_bound"):
            det.pop(k)
        for k in ("max_shape", "max_peak_ratio", "guard_peaks"):
            det["params"].pop(k)
        det["params"]["absorb_after"] = absorb_after
        det["run"] = 0
    return state


def test_a_checkpoint_of_the_papers_rule_loads_one_that_absorbed_alarms_is_refused(tmp_path):
    d = daemon(tmp_path)
    d.bank.process(["a"] * 40, np.linspace(0.0, 2.0, 40))
    d.save_checkpoint()
    path = d.cfg.threshold.checkpoint_path
    saved = checkpoint_as_format1(path)
    ahead = d.bank.process(["a"] * 5, np.linspace(0.0, 3.0, 5))[1]

    path.write_text(json.dumps(as_before_the_guard(json.loads(json.dumps(saved)), None)))
    restored = daemon(tmp_path)
    assert restored.bank.assets == ["a"] and restored.bank.source("a") == "shared"
    np.testing.assert_array_equal(restored.bank.process(["a"] * 5, np.linspace(0.0, 3.0, 5))[1], ahead)

    path.write_text(json.dumps(as_before_the_guard(json.loads(json.dumps(saved)), 30)))
    with structlog.testing.capture_logs() as logs:
        refused = daemon(tmp_path)
    assert refused.bank.assets == []  # restarted from calibration
    (warning,) = [e for e in logs if e["event"] == "checkpoint_ignored_threshold_config_changed"]
    assert warning["saved"]["absorb_after"] == 30 and "absorb_after" not in warning["now"]


def test_a_tripped_guard_is_logged_counted_in_health_and_requests_a_refresh(tmp_path, capsys):
    """The whole loop with recording clients: 80 windows whose score (max |x|, StandInModel) sits between t and
    z_q, so every window is a peak and SPOT's guard trips; after the commit the daemon reports it."""
    probe = daemon(tmp_path, method="spot", q=1e-3).bank.detector("pump")
    mid = (probe.t + probe.z) / 2
    recs = [Rec("in", 0, i, b"pump", window("pump", ts=1_000_000 + i, values=[mid] * 4)) for i in range(80)]
    consumer, producer = consumer_of(recs), MemoryProducer()
    cfg = Config(
        http=HttpConfig(port=0),
        threshold=ThresholdConfig(method="spot", q=1e-3, checkpoint_path=tmp_path / "state" / "daemon-state.json"),
    )
    d = Daemon(
        cfg,
        clients=lambda c: (consumer, producer),
        model_loader=lambda p: StandInModel(),
        resolver=lambda root: Path("/a/versions/v"),
        factories=STAND_IN_TRACKER,
    )
    t = threading.Thread(target=lambda: setattr(d, "rc", d.run()))
    t.start()
    deadline = time.monotonic() + 20
    while not (d.committed.get(TopicPartition("in", 0)) == 80 and d.guards.held) and time.monotonic() < deadline:
        time.sleep(0.01)
    ok, reason = d.health()
    d.flags.request_stop("test")
    t.join(10)
    out = capsys.readouterr()
    logs = [json.loads(x) for x in (out.err + out.out).splitlines() if x.startswith("{")]
    (line,) = [e for e in logs if e["event"] == "threshold_guard_tripped" and e["kind"] == "peak_rate"]
    assert line["asset"] == "pump" and "normal has moved" in line["reason"]
    assert d.metrics.threshold_guard_trips.labels(kind="peak_rate")._value.get() == 1  # reported once
    assert d.metrics.thresholds_held._value.get() == 1
    assert b"latentwatch_thresholds_held 1.0" in d.metrics.render()
    assert ok and "1 threshold(s) held by the runaway guard" in reason and "pump: peak rate" in reason
    req = json.loads((tmp_path / "state" / REQUEST_FILE).read_text())
    assert req["format"] == 1 and [(r["asset"], r["source"]) for r in req["requests"]] == [("pump", "threshold_guard")]
    assert "normal has moved" in req["requests"][0]["reason"] and req["requests"][0]["time"].endswith("Z")
