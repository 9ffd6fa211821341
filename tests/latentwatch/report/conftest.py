"""A small run with the alert schema the daemon publishes (daemon.wire.alert.build_alert): two assets, each with a
labelled fault that an episode catches, one false episode."""

from __future__ import annotations

from collections import Counter

import numpy as np
import orjson
import pytest

from daemon.wire.alert import build_alert
from latentwatch.replay import Plan, bad_message, serialize_window
from latentwatch.report.read import SCORES_TRACED
from latentwatch.report.run import Run, Series
from pipelines.sources import WindowStream
from tests.daemon.conftest import DIM, artifact_root  # noqa: F401  (a session fixture: a real small artifact)
from tests.daemon.helpers import Rec

T0 = 1_714_564_800_000


def _alerts(asset: str, ts: np.ndarray, score: np.ndarray, thr: np.ndarray, spans: list[tuple[int, int]]) -> list:
    out = []
    for k, (a, b) in enumerate(spans):
        eid = f"{asset}-ep{k}"
        for i, event in ((a, "open"), (a + (b - a) // 2, "update"), (b + 3, "close")):
            ep = {
                "event": event,
                "episode_id": eid,
                "opened_ts": ts[a] / 1000,
                "last_ts": ts[min(i, b)] / 1000,
                "n_alarms": i - a + 1,
                "max_score": float(score[a : b + 1].max()),
            }
            value = build_alert(
                topic="in",
                partition=0,
                offset=int(i),
                asset=asset,
                ts_ms=int(ts[i]),
                score=float(score[i]),
                components={"recon": float(score[i]), "latent": float(score[i]) / 3},
                threshold={"value": float(thr[i]), "method": "spot"},
                artifact_version="v-test",
                neighbours=[1, 2],
                episode=ep,
                meta={"label": 1},
                sensors=[{"sensor": "Pressure", "share": 0.6}, {"sensor": "Temperature", "share": 0.3}],
            )
            out.append(orjson.loads(value))
    return out


def make_run(traced: bool = True) -> Run:
    rng = np.random.default_rng(0)
    series, alerts = {}, []
    for j, asset in enumerate(("pump/1", "valve/2")):
        n = 300
        ts = T0 + np.arange(n, dtype=np.int64) * 1000
        y = np.zeros(n, np.int8)
        y[150:200] = 1
        score = rng.gamma(2.0, 0.5, n) + 8.0 * y
        thr = np.full(n, 4.0)
        alarm = score > thr
        comps = {"recon": score, "latent": score / 3}
        spans = [(152, 199)] + ([(40 + j, 44 + j)] if j == 0 else [])
        alerts += _alerts(asset, ts, score, thr, spans)
        series[asset] = Series(asset, ts, y, score, thr, alarm, comps) if traced else Series(asset, ts, y)
    run = Run(series, alerts, {"threshold": {"method": "spot", "q": 1e-4}}, "a test run")
    if traced:
        run.scores = SCORES_TRACED
    return run


@pytest.fixture
def run() -> Run:
    return make_run()


@pytest.fixture
def records_and_cfg(artifact_root, tmp_path):  # noqa: F811
    """Two assets' windows with a labelled incident (and a few records to dead-letter) as input records, and a
    daemon config over the small real artifact: SPOT, raw threshold, an alert on every alarmed window."""
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
