"""`latentwatch evaluate`: JSON schema, aggregation, tables, and a real smoke run on snsr."""

from __future__ import annotations

import json
import math

import pytest

from latentwatch.cli import main
from pipelines.evaluate.report import render_markdown, render_text
from pipelines.evaluate.runner import aggregate

TOP_KEYS = {
    "schema_version",
    "status",
    "started_utc",
    "finished_utc",
    "seconds",
    "command",
    "git",
    "environment",
    "protocol",
    "runs",
    "aggregates",
    "table",
}
PROTOCOL_KEYS = {
    "datasets",
    "seeds",
    "settings",
    "max_classes",
    "split",
    "train_spec",
    "scaler",
    "input_norm",
    "reference",
    "overrides",
    "scorers",
    "baselines",
    "variants",
    "variant_params",
    "contamination",
    "ocsvm_max_train",
    "aggregation",
    "notes",
}
RUN_KEYS = {"dataset", "setting", "class", "class_name", "seed", "sizes", "spec", "variant_params", "model", "methods"}
MODEL_KEYS = {
    "train_rows",
    "val_rows",
    "reference_items",
    "best_epoch",
    "epochs_run",
    "best_val_loss",
    "train_seconds",
    "reference_seconds",
    "encode_seconds",
    "total_seconds",
}
AGG_KEYS = {
    "dataset",
    "setting",
    "method",
    "runs",
    "auroc_mean",
    "auroc_std",
    "auroc_std_seed",
    "aupr_mean",
    "aupr_std",
    "aupr_std_seed",
}


def fake_run(ds, setting, cls, seed, auroc):
    return {
        "dataset": ds,
        "setting": setting,
        "class": cls,
        "class_name": None,
        "seed": seed,
        "sizes": {},
        "model": {},
        "methods": {"ares": {"auroc": auroc, "aupr": auroc / 2}, "lof": {"auroc": 0.5, "aupr": 0.5}},
    }


def test_aggregate_pools_seeds_and_classes_and_tables_render():
    runs = [fake_run("s", "unimodal", c, seed, 0.6 + 0.1 * c + 0.01 * seed) for c in (0, 1) for seed in (0, 1)]
    runs.append(fake_run("m", "labels", None, 0, 0.9))
    agg = {(a["dataset"], a["setting"], a["method"]): a for a in aggregate(runs)}
    a = agg[("s", "unimodal", "ares")]
    assert set(a) == AGG_KEYS and a["runs"] == 4
    vals = [0.6, 0.61, 0.7, 0.71]
    assert math.isclose(a["auroc_mean"], sum(vals) / 4)
    assert math.isclose(a["auroc_std"], (sum((v - sum(vals) / 4) ** 2 for v in vals) / 4) ** 0.5)
    assert math.isclose(a["auroc_std_seed"], 0.005)  # per-seed means 0.65, 0.66
    assert agg[("m", "labels", "ares")]["auroc_std"] == 0.0
    text = render_text(aggregate(runs), ["lof", "ares"])
    assert "M " in text.splitlines()[2] + " " and "S unimodal" in text and "90.00±0.00*" in text
    md = render_markdown(aggregate(runs), ["lof", "ares"]).splitlines()
    assert md[0] == "| data set | LOF | ARES |" and md[2] == "| M | 50.00±0.00 | **90.00±0.00** |"


def test_bad_options_are_refused_with_a_message(capsys):
    assert main(["evaluate", "--datasets", "nope", "--scorers", "ares,bogus"]) == 2
    err = capsys.readouterr().err
    assert "unknown data set 'nope'" in err and "unknown scorer 'bogus'" in err


@pytest.fixture(scope="module")
def real_data():
    from pipelines.data import DataError, resolve_data_dir

    try:
        return resolve_data_dir()
    except DataError as e:
        pytest.skip(f"real data not available: {e}")


def test_smoke_run_on_snsr_writes_json_with_valid_aurocs(real_data, tmp_path, capsys):
    out, md = tmp_path / "ev.json", tmp_path / "ev.md"
    rc = main(
        [
            "evaluate",
            "--datasets",
            "snsr",
            "--epochs",
            "5",
            "--seeds",
            "1",
            "--max-classes",
            "2",
            "--out",
            str(out),
            "--markdown",
            str(md),
            "--quiet",
        ]
    )
    assert rc == 0
    doc = json.loads(out.read_text())
    assert set(doc) == TOP_KEYS and doc["status"] == "complete" and doc["schema_version"] == 1
    assert set(doc["protocol"]) == PROTOCOL_KEYS
    assert doc["protocol"]["train_spec"]["epochs"] == 5 and doc["protocol"]["seeds"] == [0]
    assert doc["command"]["line"].startswith("latentwatch evaluate --datasets snsr --seeds 0, ")
    assert "--epochs 5" in doc["command"]["line"] and "--max-classes 2" in doc["command"]["line"]
    assert set(doc["git"]) == {"commit", "dirty"}
    runs = doc["runs"]
    assert [(r["setting"], r["class"]) for r in runs] == [
        ("unimodal", 0),
        ("unimodal", 1),
        ("multimodal", 0),
        ("multimodal", 1),
    ]
    methods = {
        "recon",
        "ares",
        "ares-cal",
        "ares-rank",
        "ares-knn",
        "nln",
        "knn-latent",
        "lof-latent",
        "rank-mean",
        "lof",
        "iforest",
        "pca",
        "ocsvm",
    }
    for r in runs:
        assert set(r) == RUN_KEYS and set(r["model"]) >= MODEL_KEYS and r["model"]["epochs_run"] <= 5
        assert r["sizes"]["test_normal"] == r["sizes"]["test_anomaly"] > 0
        assert (r["spec"]["scaler"], r["spec"]["reference_dedup"]) == ("minmax", False)  # the evaluation's choices
        assert r["spec"]["input_norm"] == doc["protocol"]["input_norm"] == "range"  # TrainSpec's default
        assert set(r["methods"]) == methods
        for m in r["methods"].values():
            assert 0.0 <= m["auroc"] <= 1.0 and 0.0 <= m["aupr"] <= 1.0
    # unimodal snsr: 200 normals of one class -> 100 + 100 test, 80 train, 20 validation
    assert runs[0]["sizes"] == {"train": 80, "val": 20, "test_normal": 100, "test_anomaly": 100}
    assert {(a["setting"], a["method"]) for a in doc["aggregates"]} == {
        (s, m) for s in ("unimodal", "multimodal") for m in methods
    }
    assert all(a["runs"] == 2 for a in doc["aggregates"])
    assert doc["table"]["markdown"] == md.read_text().strip()
    printed = capsys.readouterr().out
    assert "SNSR unimodal" in printed and "SNSR multimodal" in printed and "ARES-cal" in printed


def test_table_from_rerenders_a_record_without_running(tmp_path, capsys):
    runs = [fake_run("m", "labels", None, s, 0.8 + 0.01 * s) for s in (0, 1)]
    rec = tmp_path / "r.json"
    rec.write_text(
        json.dumps(
            {
                "status": "complete",
                "runs": runs,
                "aggregates": aggregate(runs),
                "command": {"line": "latentwatch evaluate --datasets m"},
                "table": {"columns": ["lof", "ares"]},
            }
        )
    )
    md = tmp_path / "t.md"
    assert main(["evaluate", "--table-from", str(rec), "--markdown", str(md)]) == 0
    assert "80.50±0.50*" in capsys.readouterr().out
    assert md.read_text().splitlines()[2] == "| M | 50.00±0.00 | **80.50±0.50** |"
    assert main(["evaluate", "--table-from", str(tmp_path / "missing.json")]) == 1
