"""Smoke test of `latentwatch bench e2e` at a tiny size on the real broker: it runs, and its output has every field.

No timing assertions: on a shared 2-core machine the numbers say nothing at this size.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def skab_artifact(tmp_path_factory) -> Path:
    """A small real SKAB artifact (every third normal window, 2 epochs): the shape the benchmark needs, quickly."""
    import torch

    from pipelines.sources import WindowSpec, normal_windows
    from pipelines.train import TrainSpec, fit_artifact

    torch.set_num_threads(1)
    spec = WindowSpec()
    X = normal_windows("skab", None, spec)[::3]
    return fit_artifact(X, tmp_path_factory.mktemp("bench-e2e-artifacts"),
                        TrainSpec(hidden=(32, 16), latent=6, epochs=2, patience=2, n_trees=10, k=10), seed=0,
                        progress=False, extra={"source": "skab", "window": spec.to_dict(), "normal_class": 0})


def test_bench_e2e_tiny_run_has_every_field(tmp_path, kafka_bootstrap, skab_artifact):
    doc = yaml.safe_load((REPO / "conf" / "local.yaml").read_text())
    doc["kafka"]["bootstrap_servers"] = [kafka_bootstrap]
    config = tmp_path / "base.yaml"
    config.write_text(yaml.safe_dump(doc))
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "latentwatch", "bench", "e2e", "--config", str(config),
                           "--artifact", str(skab_artifact), "--windows", "2000", "--rate", "200", "--duration", "3",
                           "--out", str(out), "--timeout", "300"],
                          cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                          timeout=1200)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    r = json.loads(out.read_text())
    assert "latentwatch bench e2e" in proc.stdout and "ratio vs raw" in proc.stdout

    assert r["produced"]["windows"] == 2000
    tp = r["throughput"]
    for run in (tp["raw_before"], tp["raw_after"]):
        assert run["records"] == 2000 and run["per_s"] > 0 and run["per_cpu_s"] > 0
    d = tp["daemon"]
    assert d["windows"] == 2000 and d["per_s"] > 0
    assert d["final_metrics"]["scored"] + d["final_metrics"]["dead_lettered"] == 2000
    assert d["final_metrics"]["dead_lettered"] == 0
    assert set(d["cpu_s"]) == {"main", "other", "total"}
    assert tp["ratio_vs_raw"] == pytest.approx(d["per_s"] / tp["raw_mean_per_s"], rel=1e-2)

    lat = r["latency"]
    assert lat["windows"] == 600 and lat["exit_code"] == 0
    # every window raised exactly one alert, so every window has a latency
    assert lat["windows_with_alert"] == 600 and lat["coverage"] == 1.0
    assert lat["alerts_by_event"]["open"] + lat["alerts_by_event"]["update"] == 600
    for key in ("publish_ms", "consumed_ms", "raw_delivery_ms"):
        assert set(lat[key]) == {"p50", "p90", "p99", "max"}
        assert lat[key]["p50"] <= lat[key]["p99"] <= lat[key]["max"]
        assert lat[key]["p50"] >= 0

    p = r["profile"]
    assert Path(p["path"]).is_file() and p["main_thread_loop_s"] > 0
    for part in ("consumer poll (fetch, CRC, record parsing)", "decode + validate", "scoring (OnlineModel.score)",
                 "thresholds (ThresholdBank.process)", "producer sends (alerts)", "commit: offset commit"):
        assert part in p["us_per_window"] and part in p["share"]
    assert 0.9 <= sum(p["share"].values()) <= 1.2  # the parts of the loop, plus what the final drain adds
    assert p["top_self_time"]

    g = r["goals"]
    assert set(g) == {"windows_per_s", "ratio_vs_raw", "p99_ms_at_rate", "latency_rate"}
    assert g["windows_per_s"]["goal"] == 10000 and g["ratio_vs_raw"]["goal"] == 0.5
    assert g["p99_ms_at_rate"]["goal"] == 200
    # the benchmark's topics are gone again
    from daemon.bench_io import admin_client

    with admin_client(kafka_bootstrap) as admin:
        assert not [t for t in admin.list_topics() if t in (lat["topics"]["input"], lat["topics"]["alerts"])]
