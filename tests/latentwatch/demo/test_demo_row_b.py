"""The demo runs SKAB's row (b), not a look-alike: for the artifact the demo trains, (1) each run's scores from the
artifact equal those of the evaluation's own in-memory model (``pipelines.evaluate.skab.models.deployment_asset``
on the same frozen autoencoder), and (2) the daemon's chain, run with the config the demo writes, alarms on exactly
the windows the evaluation's stream code (``pipelines.evaluate.skab.protocol.stream_file``) alarms on, window by
window, with the same episodes.

The daemon's chain runs over in-memory Kafka stand-ins (``daemon.offline``); with ``update_every: 1`` every alarmed
window inside an episode sends an alert, so the alerts name each alarmed window. A 2-epoch model keeps it
cheap: equivalence does not depend on how good the model is.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
RUNS = ("valve1/0", "valve2/1", "other/9")


@pytest.fixture(scope="module")
def demo_artifact(tmp_path_factory) -> tuple[Path, dict]:
    import torch

    from latentwatch.demo.model import train_artifact

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("artifacts")
    info = train_artifact(root, argparse.Namespace(epochs=2, seed=0, data_dir=None), "test")
    return Path(info["path"]), info


def _evaluation(artifact: Path, s) -> dict:
    """Per run: the evaluation's model of the run on the artifact's frozen autoencoder and scorer, its stream,
    its scores and its decisions."""
    from pipelines.data import load_skab_runs
    from pipelines.evaluate.skab.models import deployment_asset
    from pipelines.evaluate.skab.protocol import file_stream, score_stream, stream_file
    from pipelines.online import OnlineModel

    loaded = OnlineModel.load(artifact)
    out = {}
    try:
        for run in (r for r in load_skab_runs(None) if r.name in RUNS):
            st = file_stream(run, s)
            online = deployment_asset(loaded.model, loaded.scorer, st.X_fit, st.fit_rows, s, run.name)
            try:
                scores = score_stream(online, st.X_test)
                art = loaded.score(st.X_test, [f"skab/{run.name}"] * len(st.X_test)).score
                out[f"skab/{run.name}"] = {
                    "stream": st,
                    "scores": scores,
                    "artifact_scores": art,
                    "result": stream_file(online.calibration, scores, st, s),
                }
            finally:
                online.close()
    finally:
        loaded.close()
    return out


def test_artifact_scores_each_run_as_the_evaluation_does(demo_artifact):
    from pipelines.evaluate.skab.settings import SkabSettings

    artifact, info = demo_artifact
    s = SkabSettings(
        **{
            **info["settings"],
            "hidden": tuple(info["settings"]["hidden"]),
            "drop_channels": tuple(info["settings"]["drop_channels"]),
        }
    )
    assert s == SkabSettings().with_(epochs=2)
    for asset, e in _evaluation(artifact, s).items():
        np.testing.assert_allclose(e["artifact_scores"], e["scores"], rtol=1e-6, atol=1e-9, err_msg=asset)


def test_daemon_chain_alarms_on_the_evaluations_windows(demo_artifact, tmp_path):
    from daemon.config import load_config
    from daemon.inmemory import Record
    from daemon.offline import score_offline
    from latentwatch.demo.prepare import write_daemon_config
    from latentwatch.replay import Window, serialize_window
    from pipelines.evaluate.skab.settings import SkabSettings

    artifact, info = demo_artifact
    s = SkabSettings().with_(epochs=2)
    evaluation = _evaluation(artifact, s)
    path, _ = write_daemon_config(REPO / "conf" / "local.yaml", tmp_path, "127.0.0.1", 9464, skab=info["settings"])
    cfg = load_config(path)
    cfg = dataclasses.replace(cfg, episodes=dataclasses.replace(cfg.episodes, update_every=1))
    records = []
    for p, (asset, e) in enumerate(evaluation.items()):  # one partition per run: the offset is the window's index
        st = e["stream"]
        for i, x in enumerate(st.X_test):
            w = Window(asset, int(st.ts[i]) * 1000, x, int(st.anomaly[i]), i, 0)
            records.append(Record(cfg.kafka.input_topic, p, i, asset.encode(), serialize_window(w, "skab")))
    run = score_offline(cfg, records, artifact)
    assert run.exit_code == 0 and run.scored == len(records) and not run.dead_letters
    alarmed = {a: np.zeros(len(e["scores"]), dtype=bool) for a, e in evaluation.items()}
    opens = {a: 0 for a in evaluation}
    for al in run.alerts:
        if al["episode"]["event"] in ("open", "update"):
            alarmed[al["asset"]][al["source"]["offset"]] = True
            assert al["reference"] == f"asset:{al['asset']}"
        opens[al["asset"]] += al["episode"]["event"] == "open"
    for asset, e in evaluation.items():
        res = e["result"]
        assert res.alarmed.any() and not res.alarmed.all(), f"{asset}: a test that cannot tell the two apart"
        np.testing.assert_array_equal(alarmed[asset], res.alarmed, err_msg=asset)
        assert opens[asset] == res.episodes, asset
