"""`latentwatch bench state` runs end to end at a small scale and reports what it measured for every asset."""

from __future__ import annotations

import argparse
import json

import pytest

from latentwatch.bench import state as bench_state


def test_bench_state_spills_every_idle_asset_and_restores_them_all(capsys):
    p = argparse.ArgumentParser()
    bench_state.add_arguments(p)
    assert bench_state.run(p.parse_args(["--assets", "3000", "--windows", "2"])) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["assets"] == out["spilled"] == out["restart_assets"] == 3000 and out["windows"] == 6000
    assert out["checkpoint_mb"] < out["json_peer_mb"]  # packed arrays, not a JSON dict per asset
    assert out["checkpoint_mb"] * 1e6 / 3000 < 400  # bytes per asset in the file


@pytest.mark.kafka
def test_bench_state_restarts_a_real_daemon_from_the_checkpoint(capsys, kafka_bootstrap, artifact_root):
    p = argparse.ArgumentParser()
    bench_state.add_arguments(p)
    args = p.parse_args(
        [
            "--assets",
            "600",
            "--windows",
            "2",
            "--no-json-peer",
            "--bootstrap",
            kafka_bootstrap,
            "--artifact",
            str(artifact_root),
            "--restart-timeout",
            "120",
        ]
    )
    assert bench_state.run(args) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["restart_daemon_assets"] == 600  # the daemon took the bench's checkpoint, not a fresh state
    assert 0 < out["log_checkpoint_restored_s"] <= out["restart_to_consuming_s"]
    assert out["restart_alone_daemon_import_s"] > 0 and out["restart_alone_model_load_s"] > 0
