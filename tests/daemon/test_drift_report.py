"""What the daemon does with each asset's error stream after a commit (daemon/drift_report.py): only quiet windows
feed the detectors; a drift logs, counts, and writes a refresh request with ``since``; refresh_now starts the
command, once per interval."""

from __future__ import annotations

import calendar
import json
import sys
import time
from pathlib import Path

import numpy as np
import structlog

from daemon.batch import Batch
from daemon.config.drift import DriftConfig
from daemon.drift_report import DriftReporter, default_refresh_command
from daemon.metrics import Metrics
from daemon.threshold_guard import REQUEST_FILE, request_refresh, request_refreshes
from daemon.windows import Windows
from pipelines.online import ScoredBatch

T0_MS = 1_700_000_000_000


def batch(assets: list[str], err: np.ndarray, start: int, alarms: np.ndarray | None = None) -> Batch:
    n = len(assets)
    w = Windows(
        topic=["t"] * n,
        partition=np.zeros(n, dtype=np.int32),
        offset=np.arange(start, start + n, dtype=np.int64),
        key=[None] * n,
        asset=assets,
        ts_ms=T0_MS + 10_000 * np.arange(start, start + n, dtype=np.int64),
        values=np.zeros((n, 1), dtype=np.float32),
        meta=[None] * n,
    )
    b = Batch(records=[])
    b.windows, b.scored = w, ScoredBatch(score=err, components={}, neighbours=np.zeros((n, 0)), recon_error=err)
    b.alarms = np.zeros(n, dtype=bool) if alarms is None else alarms
    b.thresholds = np.full(n, np.inf)
    return b


def shifted(n: int = 1200, at: int = 600, seed: int = 0) -> np.ndarray:
    e = np.random.default_rng(seed).lognormal(0.0, 0.3, n)
    e[at:] *= 2.0
    return e


def run(rep: DriftReporter, err: np.ndarray, asset: str = "pump-1", size: int = 100) -> None:
    for s in range(0, len(err), size):
        rep.observe([batch([asset] * len(err[s : s + size]), err[s : s + size], s)])


def counter(m: Metrics, name: str) -> float:
    return m.registry.get_sample_value(name) or 0.0


def test_a_drift_is_counted_and_requests_a_refresh_since_it_began(tmp_path):
    m, path = Metrics(), tmp_path / REQUEST_FILE
    rep = DriftReporter(DriftConfig(), m, path, None)
    with structlog.testing.capture_logs() as logs:
        run(rep, shifted())
    (line,) = [e for e in logs if e["event"] == "drift_detected"]
    assert line["asset"] == "pump-1" and line["detector"] == "adwin"
    assert line["error_before"] < 1.2 < 1.7 < line["error_after"] and line["since"] < line["at"]
    assert counter(m, "latentwatch_drift_detected_total") == 1
    assert counter(m, "latentwatch_drift_assets") == 1
    (entry,) = json.loads(path.read_text())["requests"]
    assert entry["asset"] == "pump-1" and entry["source"] == "drift" and "->" in entry["reason"]
    since = calendar.timegm(time.strptime(entry["since"], "%Y-%m-%dT%H:%M:%SZ"))
    assert abs(since - (T0_MS / 1000 + 10 * 600)) <= 200
    rep.reset()
    assert counter(m, "latentwatch_drift_assets") == 0 and not rep.detectors.tracks


def test_alarms_and_windows_over_their_threshold_do_not_feed_it(tmp_path):
    rep = DriftReporter(DriftConfig(), Metrics(), tmp_path / REQUEST_FILE, None)
    err = np.ones(10)
    b = batch(["a"] * 10, err, 0, alarms=np.arange(10) < 3)
    b.thresholds = np.where(np.arange(10) == 9, 0.5, np.inf)  # the last window passed its threshold
    rep.observe([b])
    assert rep.detectors.tracks["a"].pos == 6


def test_a_shift_made_of_alarms_is_no_drift(tmp_path):
    m = Metrics()
    rep = DriftReporter(DriftConfig(), m, tmp_path / REQUEST_FILE, None)
    err = shifted()
    for s in range(0, len(err), 100):
        part = err[s : s + 100]
        rep.observe([batch(["a"] * len(part), part, s, alarms=np.arange(s, s + len(part)) >= 600)])
    assert counter(m, "latentwatch_drift_detected_total") == 0


def test_disabled_feeds_nothing(tmp_path):
    rep = DriftReporter(DriftConfig(enabled=False), Metrics(), tmp_path / REQUEST_FILE, None)
    run(rep, shifted())
    assert not rep.detectors.tracks and not (tmp_path / REQUEST_FILE).exists()


def test_refresh_now_starts_the_command_once_per_interval(tmp_path):
    marker = tmp_path / "started"
    code = "import sys; open(sys.argv[1], 'a').write('x')"
    cfg = DriftConfig(on_drift="refresh_now", refresh_command=(sys.executable, "-c", code, str(marker)), cooldown_s=0)
    m = Metrics()
    rep = DriftReporter(cfg, m, tmp_path / REQUEST_FILE, None)
    with structlog.testing.capture_logs():
        run(rep, shifted(), asset="a")
        rep.process.wait(30)
        run(rep, shifted(seed=1), asset="b")  # a second drift within refresh_min_interval_s
    assert counter(m, "latentwatch_drift_detected_total") == 2
    assert counter(m, "latentwatch_drift_refreshes_started_total") == 1
    assert marker.read_text() == "x"
    assert {r["asset"] for r in json.loads((tmp_path / REQUEST_FILE).read_text())["requests"]} == {"a", "b"}


def test_the_default_command_refreshes_the_daemon_s_own_config():
    cmd = default_refresh_command(Path("/etc/latentwatch/daemon.yaml"))
    assert cmd is not None and cmd[0] == sys.executable
    assert cmd[1:] == ("-m", "latentwatch", "refresh", "--config", "/etc/latentwatch/daemon.yaml", "--if-requested")
    assert default_refresh_command(None) is None


def test_a_request_keeps_since_and_other_sources_entries(tmp_path):
    path = tmp_path / REQUEST_FILE
    request_refresh(path, "a", "runaway", now=0)
    request_refresh(path, "a", "moved", source="drift", now=0, since=86_400.0)
    entries = {r["source"]: r for r in json.loads(path.read_text())["requests"]}
    assert entries["drift"]["since"] == "1970-01-02T00:00:00Z" and "since" not in entries["threshold_guard"]


def test_many_requests_are_one_write_and_renew_only_their_source(tmp_path):
    path = tmp_path / REQUEST_FILE
    request_refresh(path, "a", "runaway", now=0)
    request_refresh(path, "b", "old drift", source="drift", now=0, since=0.0)
    request_refreshes(path, [("b", "moved", 60.0), ("c", "moved", None)], source="drift", now=5)
    entries = {(r["asset"], r["source"]): r for r in json.loads(path.read_text())["requests"]}
    assert set(entries) == {("a", "threshold_guard"), ("b", "drift"), ("c", "drift")}
    assert entries[("b", "drift")]["since"] == "1970-01-01T00:01:00Z" and "since" not in entries[("c", "drift")]
