import json

import numpy as np

from latentwatch.cli import main
from pipelines.online import OnlineModel
from pipelines.sources import WindowSpec, streams


def test_assets_add_publishes_each_skab_run_s_first_rows_without_retraining(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text("hidden: [16]\nlatent: 4\nn_trees: 5\n")
    root = tmp_path / "a"
    assert main(["train", "--source", "skab", "--out", str(root), "--spec", str(spec), "--epochs", "2"]) == 0
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (
        main(
            ["assets", "add", "--artifact-root", str(root), "--source", "skab", "--first-rows", "400", "--shards", "4"]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["base_version"] == trained["version"] and out["assets"]["keys"] == 34
    m = OnlineModel.load_current(root)
    assert m.version == out["version"]
    assert (
        m.manifest["files"]["model.safetensors"]
        == json.loads((root / "versions" / trained["version"] / "manifest.json").read_text())["files"][
            "model.safetensors"
        ]
    )
    assert m.sensor_names[:2] == ["Accelerometer1RMS", "Accelerometer2RMS"] and len(m.sensor_names) == 8
    run = next(s for s in streams("skab", None, WindowSpec()) if s.asset == "skab/valve1/3")
    cal = m.asset_calibration["skab/valve1/3"]
    assert len(cal) == 391  # windows of 10 rows ending within the first 400
    scored = m.score(run.X[391:400], assets=[run.asset] * 9)
    assert scored.reference == ["asset:skab/valve1/3"] * 9
    assert np.isfinite(scored.score).all()
