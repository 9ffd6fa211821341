"""The trace is the daemon's own offline run: the same alerts, and the scores and thresholds it decided with."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from latentwatch.replay import Plan, bad_message, serialize_window
from pipelines.sources import WindowStream
from tests.daemon.conftest import DIM, artifact_root  # noqa: F401  (a session fixture: a real small artifact)
from tests.daemon.helpers import Rec


@pytest.fixture
def records_and_cfg(artifact_root, tmp_path):  # noqa: F811
    from daemon.config import load_config

    cfg_path = tmp_path / "d.yaml"
    cfg_path.write_text(
        f"artifact:\n  root: {artifact_root}\nthreshold:\n  method: spot\n  q: 0.001\n  level: 0.9\n"
        "episodes:\n  quiet_windows: 2\n  update_every: 1\nbatching:\n  max_records: 50\n"
    )
    cfg = load_config(cfg_path)
    X = np.random.default_rng(1).normal(size=(240, DIM))
    y = np.zeros(240, np.int64)
    X[120:135] += 40.0
    y[120:135] = 1
    streams = [
        WindowStream(a, X[i::2], y[i::2], np.arange(120, dtype=np.int64) * 1000 + 1_714_564_800_000)
        for i, a in enumerate(("a0", "a1"))
    ]
    records, offsets = [], Counter()
    for i, w in enumerate(Plan.build("synthetic", streams).windows()):
        p = int(w.asset[1:])
        bad = [bad_message("wrong_length", w, "x")] if i % 60 == 0 else []
        for value in [serialize_window(w, "synthetic"), *bad]:
            records.append(Rec(cfg.kafka.input_topic, p, offsets[p], w.asset.encode(), value))
            offsets[p] += 1
    return records, cfg


def test_the_trace_publishes_what_the_offline_run_publishes(records_and_cfg):
    from daemon.offline import score_offline
    from latentwatch.report.trace import compare, trace

    records, cfg = records_and_cfg
    series, alerts = trace(cfg, records)
    assert [a["alert_id"] for a in alerts] == [a["alert_id"] for a in score_offline(cfg, records).alerts]
    assert compare(alerts, alerts)["same"] and not compare(alerts, alerts[1:])["same"]
    assert sorted(series) == ["a0", "a1"] and all(len(s.ts_ms) == 120 for s in series.values())
    assert all(np.all(np.diff(s.ts_ms) > 0) for s in series.values())
    assert series["a0"].y.sum() == 8 and series["a1"].y.sum() == 7  # meta.label of the replayed windows
    for a in alerts:
        if a["score"] is None:
            continue
        s = series[a["asset"]]
        i = int(np.searchsorted(s.ts_ms, a["ts_ms"]))
        assert s.score[i] == pytest.approx(a["score"]) and s.threshold[i] == pytest.approx(a["threshold"]["value"])
        assert s.components.keys() == a["components"].keys()
    s = series["a0"]
    assert np.array_equal(s.alarm, s.score > s.threshold)  # persist 1 of 1, release 1: the raw threshold
    assert s.alarm[60:68].all()
