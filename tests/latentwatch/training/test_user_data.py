"""`latentwatch train --files` end to end on real SKAB windows written to CSV and .npy in tmp."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from latentwatch.cli import main
from pipelines.data.skab import SENSOR_COLUMNS
from pipelines.data.windowing import window_feature_names
from pipelines.fit import fingerprint, split_time_ordered
from pipelines.online import OnlineModel
from pipelines.sources import WindowSpec, streams

NAMES = list(window_feature_names(SENSOR_COLUMNS, 10, "summary"))


@pytest.fixture(scope="module")
def skab():
    """150 windows of two SKAB runs, shuffled so that file order is not time order."""
    got = streams("skab", None, WindowSpec(10, 5))[:2]
    rows = [(s.asset, int(t), x) for s in got for t, x in zip(s.ts_ms[:75], s.X[:75], strict=True)]
    perm = np.random.default_rng(0).permutation(len(rows))
    return [rows[i] for i in perm]


@pytest.fixture
def spec(tmp_path):
    p = tmp_path / "spec.yaml"
    p.write_text("hidden: [8]\nlatent: 2\nn_trees: 3\nk: 5\nepochs: 1\n")
    return str(p)


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["asset", "ts", *NAMES])
        w.writerows([a, t, *x.tolist()] for a, t, x in rows)
    return str(path)


def test_csv_files_train_in_time_order_and_the_last_part_validates(skab, spec, tmp_path, capsys):
    files = [write_csv(tmp_path / "a.csv", skab[:90]), write_csv(tmp_path / "b.csv", skab[90:])]
    rc = main(["train", "--files", *files, "--spec", spec, "--out", str(tmp_path / "art")])
    assert rc == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["windows"] == 150
    m = OnlineModel.load_current(tmp_path / "art")
    assert m.manifest["feature_names"] == NAMES and m.manifest["windows"] == 150 and m.dim == 40
    assert m.manifest["source"] == "files" and m.manifest["input"]["files"] == files
    by_time = sorted(skab, key=lambda r: r[1])
    assert m.manifest["data_fingerprint"] == fingerprint(np.array([r[2] for r in by_time]))
    assert m.manifest["spec"]["split"] == "time"
    _, va = split_time_ordered([150], 0.2)
    assert va.tolist() == list(range(120, 150)) and m.calibration.size == 30


def test_npy_without_times_gets_the_seeded_split(skab, spec, tmp_path):
    np.save(tmp_path / "x.npy", np.array([r[2] for r in skab]))
    assert main(["train", "--files", str(tmp_path / "x.npy"), "--spec", spec, "--out", str(tmp_path / "n")]) == 0
    m = OnlineModel.load_current(tmp_path / "n")
    assert m.manifest["spec"]["split"] == "seeded" and m.manifest["feature_names"][:2] == ["x0", "x1"]


def test_a_bad_file_is_one_line_naming_file_row_and_column(skab, spec, tmp_path, capsys):
    rows = [(a, t, x.copy()) for a, t, x in skab[:10]]
    rows[6][2][2] = np.nan
    path = write_csv(tmp_path / "bad.csv", rows)
    assert main(["train", "--files", path, "--spec", spec, "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"latentwatch train: {path}: row 7, column '{NAMES[2]}': 'nan' is not a finite number (NaN/empty)"
    assert not (tmp_path / "b" / "current.json").exists()


def test_feature_names_must_match_the_width(skab, spec, tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.array([r[2] for r in skab]))
    assert (
        main(
            [
                "train",
                "--files",
                str(tmp_path / "x.npy"),
                "--feature-names",
                "a",
                "b",
                "--spec",
                spec,
                "--out",
                str(tmp_path / "f"),
            ]
        )
        == 2
    )
    assert "--feature-names gives 2 names for 40 features" in capsys.readouterr().err


def test_a_topic_option_without_topic_is_refused(skab, spec, tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.array([r[2] for r in skab]))
    assert main(["train", "--files", str(tmp_path / "x.npy"), "--from", "2026-01-01", "--spec", spec]) == 2
    assert capsys.readouterr().err.strip() == "latentwatch train: --from goes with --topic"
