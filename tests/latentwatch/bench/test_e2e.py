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

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def skab_artifact(tmp_path_factory) -> Path:
    """A small real SKAB artifact (every third normal window, 2 epochs): the shape the benchmark needs, quickly."""
    import torch

    from pipelines.fit import TrainSpec, fit_artifact
    from pipelines.sources import WindowSpec, normal_windows

    torch.set_num_threads(1)
    spec = WindowSpec()
    X = normal_windows("skab", None, spec)[::3]
    return fit_artifact(
        X,
        tmp_path_factory.mktemp("bench-e2e-artifacts"),
        TrainSpec(hidden=(32, 16), latent=6, epochs=2, patience=2, n_trees=10, k=10),
        seed=0,
        progress=False,
        extra={"source": "skab", "window": spec.to_dict(), "normal_class": 0},
    )


@pytest.mark.kafka
def test_bench_e2e_tiny_run_has_every_field(tmp_path, kafka_bootstrap, skab_artifact):
    doc = yaml.safe_load((REPO / "conf" / "local.yaml").read_text())
    doc["kafka"]["bootstrap_servers"] = [kafka_bootstrap]
    config = tmp_path / "base.yaml"
    config.write_text(yaml.safe_dump(doc))
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "latentwatch",
            "bench",
            "e2e",
            "--config",
            str(config),
            "--artifact",
            str(skab_artifact),
            "--windows",
            "2000",
            "--rate",
            "200",
            "--duration",
            "3",
            "--py-spy",
            "no",
            "--out",
            str(out),
            "--timeout",
            "300",
        ],
        cwd=REPO,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=1200,
    )
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
    # the JSON rounds the ratio to 3 decimals
    assert tp["ratio_vs_raw"] == pytest.approx(d["per_s"] / tp["raw_mean_per_s"], rel=1e-2, abs=5e-4)

    b = r["binary"]  # the same windows in the compact binary encoding, through their own daemon
    assert b["raw"]["records"] == 2000 and b["daemon"]["windows"] == 2000
    assert b["daemon"]["final_metrics"]["scored"] == 2000 and b["daemon"]["final_metrics"]["dead_lettered"] == 0
    assert "binary encoding" in proc.stdout

    lat = r["latency"]
    assert lat["mode"] == "alert" and lat["windows"] == 600 and lat["exit_code"] == 0
    # every window raised exactly one alert, so every window has a latency
    assert lat["windows_measured"] == 600 and lat["coverage"] == 1.0
    assert lat["alerts_by_event"]["open"] + lat["alerts_by_event"]["update"] == 600
    lc = r["latency_commit"]
    assert lc["mode"] == "commit" and lc["windows"] == 600 and lc["exit_code"] == 0
    assert lc["windows_measured"] == 600 and lc["commit_polls"] > 0
    for dist in (
        lat["latency_ms"],
        lat["alert_consumed_ms"],
        lat["raw_delivery_ms"],
        lc["latency_ms"],
        lc["raw_delivery_ms"],
    ):
        assert set(dist) == {"p50", "p90", "p99", "max"}
        assert dist["p50"] <= dist["p99"] <= dist["max"]
    assert lat["latency_ms"]["p50"] >= 0 and lc["latency_ms"]["p50"] >= 0

    p = r["profile"]
    assert Path(p["path"]).is_file() and p["main_thread_loop_s"] > 0
    for part in (
        "consumer poll (fetch, CRC, record parsing)",
        "decode + validate",
        "scoring (OnlineModel.score)",
        "thresholds (ThresholdBank.process)",
        "producer sends (alerts)",
        "commit: offset commit",
    ):
        assert part in p["us_per_window"] and part in p["share"]
    assert 0.9 <= sum(p["share"].values()) <= 1.2  # the parts of the loop, plus what the final drain adds
    assert p["top_self_time"]

    g = r["goals"]
    assert set(g) == {"windows_per_s", "ratio_vs_raw", "p99_ms_at_rate", "p99_ms_at_rate_commit", "latency_rate"}
    assert g["windows_per_s"]["goal"] == 10000 and g["ratio_vs_raw"]["goal"] == 0.5
    assert g["p99_ms_at_rate"]["goal"] == 200
    # the benchmark's topics are gone again
    from latentwatch.kafka.admin import admin_client

    with admin_client(kafka_bootstrap) as admin:
        assert not [t for t in admin.list_topics() if t in (lat["topics"]["input"], lat["topics"]["alerts"])]


def test_sampled_breakdown_gives_each_sample_to_its_innermost_part(tmp_path):
    """py-spy's raw stacks (root first): the innermost named part of the loop wins, threads and start-up apart."""
    from latentwatch.bench.e2e.profiling import sampled_breakdown

    svc, turn = "/r/daemon/service.py", "Daemon._turn (/r/daemon/service.py:300)"
    raw = tmp_path / "raw.txt"
    raw.write_text(
        "\n".join(
            [
                f"<module> (/r/m.py:1);Daemon._run ({svc}:400);{turn};"
                "KafkaConsumer.poll (/v/kafka/consumer/group.py:778);"
                "Fetcher._unpack_records (/v/kafka/consumer/fetcher.py:1661) 30",
                f"<module> (/r/m.py:1);Daemon._run ({svc}:400);{turn};Batcher.poll (/r/daemon/steps/batcher.py:50);"
                "DecodeStep.submit (/r/daemon/steps/decode.py:25);decode_batch (/r/daemon/wire/records.py:155) 20",
                f"<module> (/r/m.py:1);Daemon._run ({svc}:400);{turn};DecodeStep.submit (/r/daemon/steps/decode.py:25);"
                "ScoreStep.submit (/r/daemon/steps/score.py:12);OnlineModel.score (/r/pipelines/online.py:80) 25",
                f"<module> (/r/m.py:1);Daemon._run ({svc}:400);{turn};Batcher.poll (/r/daemon/steps/batcher.py:50) 5",
                "Thread._bootstrap (/p/threading.py:1002);Sender.run (/v/kafka/producer/sender.py:60) 15",
                "Thread._bootstrap (/p/threading.py:1002);Sender.run (/v/kafka/producer/sender.py:60);"
                "EpollSelector.select (/p/selectors.py:468) 10",
                "<module> (/r/m.py:1);OnlineModel.load (/r/pipelines/online.py:50) 5",
            ]
        )
        + "\n"
    )
    b = sampled_breakdown(raw, windows=1000)
    assert b["samples"] == 110
    loop = b["share_of_loop"]
    assert loop["consumer poll (fetch, CRC, record parsing)"] == pytest.approx(30 / 80, abs=1e-3)
    assert loop["decode + validate"] == pytest.approx(20 / 80, abs=1e-3)
    assert loop["scoring (OnlineModel.score)"] == pytest.approx(25 / 80, abs=1e-3)
    assert loop["other in the loop (batcher, glue)"] == pytest.approx(5 / 80, abs=1e-3)
    cpu = b["sampled_us_per_window"]
    assert cpu["kafka-python threads (network IO, producer sender, heartbeat)"] == pytest.approx(75.0)  # 15 samples
    assert cpu["start-up and shutdown (imports, model load, drain)"] == pytest.approx(25.0)
    # a thread waiting in select is not CPU
    assert b["waiting_us_per_window"]["other threads waiting"] == pytest.approx(50.0)
    # 30 samples at 200 Hz over 1000 windows = 150 us of CPU per window
    assert b["sampled_us_per_window"]["consumer poll (fetch, CRC, record parsing)"] == pytest.approx(150.0)
    from latentwatch.bench.e2e.profiling import cpu_by_part

    split = cpu_by_part(b, {"main": 0.08, "other": 0.02, "total": 0.1}, windows=1000)  # 80 us main, 20 us other
    assert split["consumer poll (fetch, CRC, record parsing)"] == pytest.approx(30.0, abs=0.1)
    assert split["kafka-python threads (network IO, producer sender, heartbeat)"] == pytest.approx(20.0)
    assert sum(split.values()) == pytest.approx(100.0, abs=0.5)
