"""Drift in real data, through the daemon's own chain (in-memory Kafka stand-ins, daemon/inmemory.py).

SKAB's anomaly-free run drifts by itself: a model trained on its first 3,000 rows sees the plain reconstruction
error stay near its training level for the first ~6,000 rows, then climb (median ~22 -> ~37 -> ~48 -> ~79) while
most windows stay below their threshold. Two assets stream the run as non-overlapping 10-row windows:
``pump-steady`` its first 6,000 rows, ``pump-drifting`` all of it. The daemon must find one drift, on
``pump-drifting``, placed where the level climbs, and write the refresh request with that asset and ``since``.
"""

from __future__ import annotations

import calendar
import json
import time

import numpy as np
import pytest
import yaml

from daemon import checkpoint
from daemon.inmemory import MemoryConsumer, MemoryProducer
from daemon.threshold_guard import REQUEST_FILE
from tests.daemon.drift_data import records, skab_drift


@pytest.fixture(scope="module")
def skab(tmp_path_factory):
    return skab_drift(tmp_path_factory.mktemp("drift-skab"))


def run_daemon(tmp_path, base, recs):
    from daemon.config import load_config
    from daemon.service import Daemon
    from daemon.signals import Flags

    path = tmp_path / "d.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "artifact": {"root": None, "path": str(base)},
                "threshold": {"checkpoint_path": str(tmp_path / "state" / "daemon.json")},
                "http": {"enabled": False},
                "logging": {"level": "WARNING"},
            }
        )
    )
    flags = Flags()
    consumer = MemoryConsumer(recs, lambda: flags.request_stop("done"))
    d = Daemon(load_config(path), flags=flags, clients=lambda c: (consumer, MemoryProducer()))
    assert d.run() == 0
    return d


def test_the_drifting_asset_requests_a_refresh_from_where_its_level_moved(skab, tmp_path):
    base, streams = skab
    recs = records(streams, "latentwatch.windows")
    d = run_daemon(tmp_path, base, recs)
    assert d.metrics.registry.get_sample_value("latentwatch_drift_detected_total") == 1
    assert d.metrics.registry.get_sample_value("latentwatch_drift_assets") == 1
    (entry,) = json.loads((tmp_path / "state" / REQUEST_FILE).read_text())["requests"]
    assert entry["asset"] == "pump-drifting" and entry["source"] == "drift"
    since_ms = calendar.timegm(time.strptime(entry["since"], "%Y-%m-%dT%H:%M:%SZ")) * 1000
    X, ts = streams["pump-drifting"]
    at = int(np.searchsorted(ts, since_ms))
    assert 500 <= at <= 720, at  # where the error climbs (rows ~5,000-7,200), not in the steady part
    steady = d.drift.detectors.tracks["pump-steady"]
    assert steady.pos > 500  # it was watched, not skipped: most of its windows fed its detector


def test_detectors_are_not_checkpointed_a_restart_starts_them_afresh(skab, tmp_path):
    base, streams = skab
    recs = records(streams, "latentwatch.windows")
    first = run_daemon(tmp_path, base, recs[:400])
    assert first.drift.detectors.tracks["pump-drifting"].pos > 150
    saved = checkpoint.load(tmp_path / "state" / "daemon.json")
    assert saved is not None and not [k for k in saved if "drift" in k]
    again = run_daemon(tmp_path, base, recs[400:])
    second = sum(r.key == b"pump-drifting" for r in recs[400:])
    assert 0 < again.drift.detectors.tracks["pump-drifting"].pos <= second  # only what this run saw
