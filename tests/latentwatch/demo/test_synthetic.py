"""The synthetic demo's streams and scores: what is replayed is each asset's run after its normal period, and the
summary's faults are the plant's own labelled ones, caught by the episodes that overlap them."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from latentwatch.demo import synthetic
from pipelines.data.synthetic import SENSORS, PlantSpec, make_plant


@pytest.fixture(scope="module")
def plant():
    return make_plant(PlantSpec(normal_days=1.0, test_days=1.0))


def _ms(run, row: int) -> int:
    return int(run.timestamps[row].astype("datetime64[ms]").astype(np.int64))


def test_the_settings_are_skabs_row_b_without_the_slow_channel_guard():
    from latentwatch.demo.model import demo_settings

    args = argparse.Namespace(seed=3, epochs=None, plant_days=None)
    assert synthetic.settings(args) == demo_settings(args).with_(slow_below=None)
    assert synthetic.plant_spec(args) == PlantSpec(seed=3)
    assert synthetic.plant_spec(argparse.Namespace(seed=0, plant_days=0.5)).test_days == 0.5


def test_the_streams_are_the_runs_after_their_normal_period(plant):
    s = synthetic.settings(argparse.Namespace(seed=0, epochs=2))
    streams = synthetic.streams(plant, s)
    assert [st.asset for st in streams] == [f"synthetic/pump-{i}" for i in range(1, 5)]
    for st, run in zip(streams, plant, strict=True):
        assert len(st.X) == len(run) - run.normal_rows and st.X.shape[1] == s.length * len(SENSORS)
        assert int(st.ts_ms[0]) == _ms(run, run.normal_rows)  # the first window ends on the first streamed row
        np.testing.assert_array_equal(st.X[0][-len(SENSORS) :], run.values[run.normal_rows])  # flatten: last row last
        for f in run.faults:  # a window is anomalous while a fault row is inside it
            i0, i1 = f.start - run.normal_rows, f.end - 1 - run.normal_rows + s.length - 1
            assert st.y[i0 : i1 + 1].all() and not st.y[i0 - 1]


def test_scores_count_the_faults_an_episode_overlaps_and_the_sensor_the_alerts_named(plant):
    s = synthetic.settings(argparse.Namespace(seed=0, epochs=2))
    run = plant[0]
    hit, missed = run.faults
    asset = f"synthetic/{run.name}"
    t_open = _ms(run, hit.start + 3)
    episodes = {
        "caught": {"asset": asset, "opened_ts": t_open / 1000, "last_ts": _ms(run, hit.end - 1) / 1000},
        "false": {"asset": asset, "opened_ts": _ms(run, 1500) / 1000, "last_ts": _ms(run, 1510) / 1000},
    }
    alerts = [
        {"asset": asset, "ts_ms": t_open, "sensors": [{"sensor": hit.sensor, "share": 0.7}], "episode": {"event": e}}
        for e in ("open", "update")
    ]
    got = synthetic.scores(plant, episodes, alerts, s)
    first, second = (f for f in got["injected"] if f["asset"] == asset)
    assert first["detected"] and first["delay_s"] == 180.0 and first["top_sensor"] == hit.sensor
    assert first["cause_named"] and first["kind"] == hit.kind
    assert not second["detected"] and second["delay_s"] is None and second["top_sensor"] is None
    pf = got["per_fault"]
    assert pf["injected"] == 8 and pf["detected"] == 1 and pf["cause_named"] == 1 and pf["median_delay_s"] == 180.0
    assert pf["by_kind"][hit.kind] == {"detected": 1, "of": 2}
    assert got["faults"]["of"] == 4 and got["faults"]["false_episodes"] == 1  # SKAB's view: per asset
    b = got["binary"]
    streamed = sum(len(r) - r.normal_rows for r in plant)
    assert b["tp"] + b["fp"] + b["fn"] + b["tn"] == streamed
    assert b["tp"] == hit.end - hit.start - 3 and b["fp"] == 11


def test_the_artifact_is_reused_only_for_the_same_plant_data_and_settings(plant, monkeypatch, tmp_path):
    import latentwatch.replay
    import pipelines.artifact.store
    from pipelines.fit import fingerprint

    args = argparse.Namespace(seed=0, epochs=None, plant_days=1.0, retrain=False)
    s = synthetic.settings(args)
    X = np.vstack([x for _, x in synthetic.normal_periods(plant, s).values()])
    manifest = {
        "version": "v1",
        "plant": synthetic.plant_spec(args).to_dict(),
        "data_fingerprint": fingerprint(X),
        "skab_settings": s.to_dict(),
        "assets": {"keys": 4},
    }
    monkeypatch.setattr(latentwatch.replay, "read_manifest", lambda root: manifest)
    monkeypatch.setattr(pipelines.artifact.store, "resolve_current", lambda root: Path(root) / "versions" / "v1")
    trained: list[str] = []
    monkeypatch.setattr(synthetic, "train", lambda root, a, runs, reason: trained.append(reason) or {"reason": reason})
    cfg = argparse.Namespace(artifact=argparse.Namespace(root=tmp_path / "artifacts", path=None))
    got = synthetic.ensure_artifact(cfg, args, plant)
    assert not trained and not got["trained_now"] and got["root"] == str(tmp_path / "artifacts-synthetic")
    manifest["data_fingerprint"] = "another generator"  # same spec, other signals: the plant code changed
    synthetic.ensure_artifact(cfg, args, plant)
    assert trained and "another plant" in trained[-1]
    synthetic.ensure_artifact(cfg, argparse.Namespace(**{**vars(args), "retrain": True}), plant)
    assert trained[-1] == "--retrain"
