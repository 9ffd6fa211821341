"""Each asset's own normal in the running daemon, on the real broker: two assets with different normals (SKAB's
anomaly-free run, and the same real signal with two sensors at another level), each alarmed only on its own fault.

The model is trained on asset A's signal only, so against the global reference asset B's normal is anomalous; with
per-asset references (``publish_asset_normals``) and thresholds started from each asset's own calibration, the
daemon alarms B only where B's injected fault is, and A only where A's is; each alert names its reference and the
faulty sensor.
"""

from __future__ import annotations

import time

import numpy as np
import orjson
import pytest

from daemon.config import load_config
from tests.daemon.helpers import window
from tests.daemon.kafka_io import produce, read_all

pytestmark = pytest.mark.kafka

WIN, START, TEST = 10, 3000, 600  # window rows; first streamed window; streamed windows per asset
# asset: (first, end) window of its fault, the faulty sensor (2 Current, 3 Pressure)
FAULTS = {"pump-a": (200, 400, 2), "pump-b": (400, 600, 3)}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    from pipelines.asset_normals import publish_asset_normals
    from pipelines.data import load_skab_anomaly_free
    from pipelines.data.skab import SENSOR_COLUMNS
    from pipelines.data.windowing import window_feature_names, window_vectors
    from pipelines.fit import TrainSpec, fit_artifact

    raw = np.asarray(load_skab_anomaly_free(None).values, dtype=np.float64)
    sigma = raw.std(axis=0)
    signals = {"pump-a": raw, "pump-b": raw + np.r_[0, 0, 0, 0, 5, 5, 0, 0] * sigma}  # B: Temperature, Thermocouple
    windows = {a: window_vectors(v, WIN, 1, "summary") for a, v in signals.items()}
    root = tmp_path_factory.mktemp("asset-fleet")
    spec = TrainSpec(hidden=(32, 16), latent=6, epochs=25, patience=5, n_trees=10, k=10, device="cpu")
    base = fit_artifact(
        windows["pump-a"],
        root,
        spec,
        seed=0,
        progress=False,
        extra={"feature_names": list(window_feature_names(SENSOR_COLUMNS, WIN, "summary"))},
    )
    # each asset's normal: its run without the streamed stretch (and the windows that overlap it)
    normals = {a: np.vstack([w[: START - WIN], w[START + TEST + WIN :]]) for a, w in windows.items()}
    publish_asset_normals(root, base, normals, shards=4, gap=WIN - 1)
    streams = {}
    for asset, v in signals.items():
        first, end, sensor = FAULTS[asset]
        rows = v[START : START + TEST + WIN - 1].copy()
        rows[first + WIN - 1 : end + WIN - 1, sensor] += 8 * sigma[sensor]  # the rows whose windows end in the fault
        streams[asset] = window_vectors(rows, WIN, 1, "summary")
    return root, base, streams


def test_global_reference_alone_alarms_on_b_s_normal(fleet):
    from pipelines.online import OnlineModel

    root, base, streams = fleet
    glob, own = OnlineModel.load(base), OnlineModel.load_current(root)
    normal_b = streams["pump-b"][: FAULTS["pump-b"][0]]
    limit = np.quantile(glob.calibration, 0.999)
    assert (glob.score(normal_b).score > limit).mean() > 0.9  # another level: anomalous against A's normal
    scored = own.score(normal_b, assets=["pump-b"] * len(normal_b))
    assert set(scored.reference) == {"asset:pump-b"}
    assert (scored.score > np.quantile(own.asset_calibration["pump-b"], 0.999)).mean() < 0.05


def test_each_asset_is_alarmed_only_on_its_own_fault(fleet, make_config, start_daemon, kafka_bootstrap):
    root, _, streams = fleet
    path = make_config(
        "assets",
        artifact={"root": str(root), "check_interval_s": 1},
        threshold={"method": "spot", "q": 1e-4, "level": 0.98},
    )
    cfg = load_config(path)
    t0 = int(time.time() * 1000) - 3_600_000
    items = []
    for i in range(TEST):  # the two assets interleaved, as one topic carries them
        for asset, X in streams.items():
            items.append((asset.encode(), window(asset, ts=t0 + i * 1000, values=X[i].tolist(), dim=X.shape[1])))
    produce(kafka_bootstrap, cfg.kafka.input_topic, items)
    run = start_daemon(path)
    run.wait_for(lambda: run.daemon.metrics.scored._value.get() >= len(items), timeout=120, what="every window")
    bank = run.daemon.bank
    assert bank.source("pump-a") == "own" and bank.source("pump-b") == "own"
    assert run.stop() == 0
    alerts = [orjson.loads(r.value) for r in read_all(kafka_bootstrap, cfg.kafka.alert_topic)]
    alarms = [a for a in alerts if a["episode"]["event"] in ("open", "update")]
    for asset, (first, end, sensor) in FAULTS.items():
        mine = [a for a in alarms if a["asset"] == asset]
        assert any(a["episode"]["event"] == "open" for a in mine), f"{asset} never alarmed"
        at = sorted((a["ts_ms"] - t0) // 1000 for a in mine)
        assert first <= at[0] and at[-1] < end + WIN - 1, (asset, at)  # windows holding its fault's rows, only
        assert {a["reference"] for a in mine} == {f"asset:{asset}"}
        named = [a["sensors"][0]["sensor"] for a in mine]
        assert named.count(("Current", "Pressure")[sensor - 2]) >= 0.9 * len(named), (asset, named)
