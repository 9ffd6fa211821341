"""`latentwatch evaluate --choose-default`: the swing table and the pick from two records, the summary it writes,
the same pick from that summary alone, and clear errors for records that do not fit."""

from __future__ import annotations

import json

from latentwatch.cli import main


def _record(scaler: str, auroc: dict[str, float]) -> dict:
    return {
        "status": "complete",
        "seconds": 12.5,
        "command": {"line": f"latentwatch evaluate --scaler {scaler}"},
        "git": {"commit": "abc", "dirty": False},
        "protocol": {"scaler": scaler, "datasets": ["mi-f", "snsr"], "seeds": [0, 1], "baselines": []},
        "aggregates": [
            {"dataset": ds, "setting": st, "method": m, "auroc_mean": v + d}
            for m, v in auroc.items()
            for ds, st, d in (("mi-f", "labels", 0.0), ("snsr", "unimodal", 0.01))
        ],
    }


def test_prints_the_swings_and_the_pick_and_writes_a_summary_that_gives_the_same_pick(tmp_path, capsys):
    mm, zs = tmp_path / "mm.json", tmp_path / "zs.json"
    mm.write_text(json.dumps(_record("minmax", {"ares": 0.90, "nln": 0.85})))
    zs.write_text(json.dumps(_record("zscore", {"ares": 0.80, "nln": 0.84})))
    summary, md = tmp_path / "docs" / "default.json", tmp_path / "swing.md"
    argv = ["evaluate", "--choose-default", str(mm), str(zs), "--summary-out", str(summary), "--markdown", str(md)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "default scorer: nln" in out
    assert "90.00 / 80.00 / 10.00" in out and "85.00 / 84.00 / 1.00" in out
    assert "latentwatch evaluate --scaler zscore (12.5 s, commit abc)" in out
    assert md.read_text().startswith("| row (minmax / zscore / swing) | nln | ares |")
    doc = json.loads(summary.read_text())
    assert doc["rows"] == ["MI-F", "SNSR unimodal"] and doc["sources"]["minmax"]["seconds"] == 12.5
    assert main(["evaluate", "--choose-default", str(summary)]) == 0
    assert "default scorer: nln" in capsys.readouterr().out


def test_records_in_the_wrong_order_or_a_missing_file_are_named(tmp_path, capsys):
    mm, zs = tmp_path / "mm.json", tmp_path / "zs.json"
    mm.write_text(json.dumps(_record("minmax", {"ares": 0.9})))
    zs.write_text(json.dumps(_record("zscore", {"ares": 0.9})))
    assert main(["evaluate", "--choose-default", str(zs), str(mm)]) == 1
    assert f"{zs}: expected a --scaler minmax record" in capsys.readouterr().err
    assert main(["evaluate", "--choose-default", str(tmp_path / "nope.json")]) == 1
    assert "nope.json" in capsys.readouterr().err
    assert main(["evaluate", "--choose-default", str(mm), str(zs), str(mm)]) == 1
    assert "two evaluation records or one summary, got 3" in capsys.readouterr().err


def test_says_so_when_no_scorer_qualifies(tmp_path, capsys):
    mm, zs = tmp_path / "mm.json", tmp_path / "zs.json"
    mm.write_text(json.dumps(_record("minmax", {"ares": 0.90, "nln": 0.85})))
    zs.write_text(json.dumps(_record("zscore", {"ares": 0.70, "nln": 0.80})))
    assert main(["evaluate", "--choose-default", str(mm), str(zs)]) == 0
    out = capsys.readouterr().out
    assert "no scorer qualifies; the rule's fallback (the smallest largest swing): nln" in out
    assert "default scorer:" not in out
    assert "not applied: TrainSpec's default is 'rank-mean' with input_norm 'range'" in out
