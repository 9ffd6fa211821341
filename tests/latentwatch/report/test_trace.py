"""The trace is the daemon's own offline run: the same alerts, and the scores and thresholds it decided with."""

from __future__ import annotations

import numpy as np
import pytest


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
