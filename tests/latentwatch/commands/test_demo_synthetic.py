"""`latentwatch demo` without the data sets: it says where to get them and offers --synthetic, and --synthetic runs
the whole chain (train, per-asset normals, the real broker, the daemon, the summary) from a checkout with no
../shared, the data folder pointed at a path that does not exist."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
NO_DATA = {"LATENTWATCH_DATA_DIR": "/nonexistent"}


def _demo(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "latentwatch", "demo", *args],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_without_the_data_it_says_where_to_get_it_and_offers_synthetic():
    proc = _demo([], NO_DATA, 120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr
    assert "/nonexistent" in err and "https://github.com/waico/SKAB" in err and "SOURCE.md" in err
    assert "LATENTWATCH_DATA_DIR" in err and "../shared/data" in err and "--data-dir" in err
    assert "latentwatch demo --synthetic" in err
    assert "broker" not in proc.stdout  # it stops before touching Kafka


def test_options_of_the_other_source_are_refused():
    proc = _demo(["--plant-days", "1"], NO_DATA, 120)
    assert proc.returncode == 2 and "--plant-days is for --synthetic" in proc.stderr
    proc = _demo(["--synthetic", "--runs", "3"], NO_DATA, 120)
    assert proc.returncode == 2 and "--runs picks SKAB runs" in proc.stderr


def _config(tmp_path: Path, bootstrap: str) -> Path:
    doc = yaml.safe_load((REPO / "conf" / "local.yaml").read_text())
    tag = uuid.uuid4().hex[:8]
    doc["kafka"].update(
        bootstrap_servers=[bootstrap],
        input_topic=f"synth-in-{tag}",
        alert_topic=f"synth-alerts-{tag}",
        dead_letter_topic=f"synth-dead-{tag}",
        group_id=f"synth-test-{tag}",
        client_id="synth-test",
    )
    doc["artifact"] = {"root": str(tmp_path / "artifacts"), "check_interval_s": 3600}
    doc["threshold"]["checkpoint_path"] = str(tmp_path / "unused-state.json")
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.mark.slow
def test_synthetic_demo_end_to_end_without_the_data(tmp_path, kafka_bootstrap):
    """A half-day plant (4 x 720 streamed windows) and a 5-epoch model on the test broker (its own topics and group)."""
    config = _config(tmp_path, kafka_bootstrap)
    out = tmp_path / "out" / "demo.json"
    args = ["--synthetic", "--plant-days", "0.5", "--epochs", "5", "--config", str(config), "--out", str(out)]
    proc = _demo([*args, "--timeout", "600"], {**NO_DATA, "OMP_NUM_THREADS": "1"}, 1200)
    assert proc.returncode == 0, f"demo exit {proc.returncode}\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
    s = json.loads(out.read_text())
    assert s["ok"] and all(s["checks"].values()), s["checks"]
    assert s["source"] == "synthetic" and s["skab"] is None
    a = s["artifact"]
    assert a["trained_now"] and a["asset_normals"] == 4 and a["root"] == str(tmp_path / "artifacts-synthetic")
    assert s["daemon_config"]["changes"]["artifact.root"] == a["root"]
    assert s["replay"]["runs"] == 4 and s["replay"]["windows"] == 4 * 720
    assert s["daemon"]["scored"] == 4 * 720
    p = s["synthetic"]
    assert p["per_fault"]["injected"] == 8 and len(p["injected"]) == 8
    b = p["binary"]
    assert b["tp"] + b["fp"] + b["fn"] + b["tn"] == 4 * 720
    assert p["per_fault"]["detected"] >= 1, p["injected"]  # a step of 3 standard deviations is not subtle
    assert "faults detected" in proc.stdout and "F1" in proc.stdout
    # the live view, not on a terminal: one plain line per alert the daemon published, and progress lines
    alert_lines = [line for line in proc.stdout.splitlines() if line.startswith("alert: ")]
    assert len(alert_lines) == sum(s["daemon"]["alerts_by_event"].values())
    assert any(line.startswith("progress: sent ") for line in proc.stdout.splitlines())
