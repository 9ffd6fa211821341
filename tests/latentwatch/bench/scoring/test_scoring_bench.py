"""`latentwatch bench scoring` end to end at a tiny size (no timing assertions), and its pieces."""

from __future__ import annotations

import json

import pytest

from latentwatch.bench.scoring import _ints
from latentwatch.bench.scoring.config import ALL_SCORERS, PEERS
from latentwatch.cli import main


def test_bench_scoring_smoke(tmp_path, capsys):
    out = tmp_path / "bench.json"
    rc = main(
        [
            "bench",
            "scoring",
            "--data",
            "synthetic",
            "--sizes",
            "400,600",
            "--queries",
            "120",
            "--batch",
            "60",
            "--rounds",
            "1",
            "--train-rows",
            "400",
            "--epochs",
            "1",
            "--max-seconds",
            "5",
            "--tune",
            "--tune-trees",
            "2",
            "--tune-search-k=-1,50",
            "--profile",
            "--json",
            str(out),
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    for column in (
        "size",
        "items",
        "build_s",
        "rss_mib",
        "held_mib",
        "annoy_mib",
        "method",
        "far_rows",
        "far_recall",
        "far_ares_change",
        "far_flips",
        "annoy_recall@10",
        "windows/s",
        "400 w/s",
        "600 w/s",
        "vs_ares",
        "goals",
        "annoy sweep",
        "ares profile",
        "ncalls",
    ):
        assert column in text, column
    for method in (*ALL_SCORERS, *PEERS):
        assert method in text, method
    for goal in ("ares >= annoy-loop", "ares > pyod-knn", "ares >= 0.5 x pyod-iforest"):
        assert goal in text
    doc = json.loads(out.read_text())
    assert [r["size"] for r in doc["results"]] == [400, 600]
    for r in doc["results"]:
        assert set(r["rates"]) == set(ALL_SCORERS) | set(PEERS)
        assert all(v > 0 for v in r["rates"].values())
        assert r["vs_ares"]["ares"] == 1.0
        assert r["method"] == "exact" and 0.0 <= r["recall"] <= 1.0
        assert {t["search_k"] for t in r["tune"]} == {-1, 50}
    assert len(doc["goals"]) == 6


def test_bench_subcommand_is_required(capsys):
    with pytest.raises(SystemExit):
        main(["bench"])
    assert "scoring" in capsys.readouterr().err


def test_sizes_parse():
    assert _ints("20k,100k,1m") == (20_000, 100_000, 1_000_000)
    assert _ints("1_000, 2.5k") == (1000, 2500)


def test_a_bench_that_cannot_import_refuses_alone(monkeypatch, capsys):
    from latentwatch.commands import bench

    monkeypatch.setitem(bench.BENCHES, "broken", ("no_such_module_for_bench", "a bench whose extra is missing"))
    with pytest.raises(SystemExit, match="cannot import no_such_module_for_bench"):
        main(["bench", "broken"])
    with pytest.raises(SystemExit):
        main(["bench", "scoring", "--help"])
    assert "--sizes" in capsys.readouterr().out
