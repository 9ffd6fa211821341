"""Missing and malformed files raise DataError naming the file (and line/column). Broken copies live in tmp_path."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.data import clear_cache, load_dataset, load_skab_anomaly_free, load_skab_runs


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("mi-f", "cnc"),
        ("mi-v", "cnc"),
        ("eopt", "eopt"),
        ("snsr", "snsr"),
        ("nasa", "nasa"),
        ("stl", "stl"),
        ("skab", "skab"),
    ],
)
def test_mini_copies_load_and_missing_folder_is_named(name, folder, mini, tmp_path, raises_about):
    root = mini(folder, rows=5)
    d = load_dataset(name, root)  # the untouched mini copy is valid: failures below are the edits' doing
    assert d.X.shape[0] > 0
    empty = tmp_path / "empty"
    empty.mkdir()
    with raises_about(empty / folder, "not found"):
        load_dataset(name, empty)


def test_mini_cnc_keeps_the_schema(mini, raises_about):
    d = load_dataset("mi-f", mini("cnc", rows=5))
    assert d.X.shape == (18 * 5, len(d.feature_names)) and d.feature_names[46] == "M1_CURRENT_FEEDRATE"
    assert np.bincount(d.groups)[1:].tolist() == [5] * 18  # experiment_12 (bare CR endings) included


def test_missing_file(mini, raises_about):
    root = mini("cnc")
    (root / "cnc" / "experiment_07.csv").unlink()
    with raises_about(root / "cnc" / "experiment_07.csv", "not found"):
        load_dataset("mi-f", root)


def test_non_numeric_cell_names_line_and_column(mini, edit, cell, raises_about):
    root = mini("cnc")
    path = root / "cnc" / "experiment_03.csv"
    edit(path, 4, cell(",", 1, "oops"))
    with raises_about(path, "line 4", "X1_ActualVelocity", "oops"):
        load_dataset("mi-f", root)


def test_bare_cr_file_reports_the_right_line(mini, edit, cell, raises_about):
    root = mini("cnc")
    path = root / "cnc" / "experiment_12.csv"
    edit(path, 3, cell(",", 0, "x"))
    with raises_about(path, "line 3", "X1_ActualPosition"):
        load_dataset("mi-v", root)


def test_wrong_column_count(mini, edit, raises_about):
    root = mini("eopt")
    path = root / "eopt" / "HRSS_anomalous_standard.csv"
    edit(path, 5, lambda s: s + ",7")
    with raises_about(path, "line 5", "21 columns", "expected 20"):
        load_dataset("eopt", root)


def test_bad_header(mini, edit, raises_about):
    root = mini("eopt")
    path = root / "eopt" / "HRSS_normal_optimized.csv"
    edit(path, 1, lambda s: s.replace("O_w_BLO_power", "O_w_BLO_powr"))
    with raises_about(path, "bad header", "O_w_BLO_powr"):
        load_dataset("eopt", root)


def test_empty_cell_and_nan_are_rejected(mini, edit, raises_about):
    root = mini("nasa")
    path = root / "nasa" / "nasa.csv"
    edit(path, 2, lambda s: s.replace(",21.6,", ",,", 1))
    with raises_about(path, "line 2", "Absolute Magnitude"):
        load_dataset("nasa", root)
    edit(path, 2, lambda s: s.replace(",,", ",nan,", 1))
    with raises_about(path, "line 2", "Absolute Magnitude", "'nan'"):
        load_dataset("nasa", root)


def test_bad_labels(mini, edit, raises_about):
    root = mini("eopt")
    path = root / "eopt" / "HRSS_normal_standard.csv"
    edit(path, 6, lambda s: s.replace(",0,", ",2,", 1))
    with raises_about(path, "line 6", "Labels", "0 or 1"):
        load_dataset("eopt", root)


def test_nasa_bad_hazardous(mini, edit, raises_about):
    root = mini("nasa")
    path = root / "nasa" / "nasa.csv"
    edit(path, 3, lambda s: s.rsplit(",", 1)[0] + ",MAYBE")
    with raises_about(path, "line 3", "Hazardous", "MAYBE"):
        load_dataset("nasa", root)


def test_cnc_train_csv_yes_no(mini, edit, raises_about):
    root = mini("cnc")
    path = root / "cnc" / "train.csv"
    edit(path, 2, lambda s: s.replace(",yes,yes", ",maybe,yes"))
    with raises_about(path, "line 2", "machining_finalized", "maybe"):
        load_dataset("mi-f", root)


def test_stl_row_width_and_one_hot(mini, edit, raises_about):
    root = mini("stl")
    path = root / "stl" / "Faults.NNA"
    original = path.read_bytes()
    edit(path, 2, lambda s: s.replace("\t", "", 1))
    with raises_about(path, "line 2", "33 TAB-separated values", "expected 34"):
        load_dataset("stl", root)
    path.write_bytes(original)
    edit(path, 4, lambda s: s[: -len('0"')] + '1"')  # a second 1 in the one-hot
    with raises_about(path, "line 4", "exactly one 1"):
        load_dataset("stl", root)


def test_stl_names_file(mini, edit, raises_about):
    root = mini("stl")
    path = root / "stl" / "Faults27x7_var.txt"
    edit(path, 34, lambda s: "Other")
    with raises_about(path, "Other_Faults"):
        load_dataset("stl", root)


def test_snsr_bad_arrays(mini, raises_about):
    root = mini("snsr")
    x, y = root / "snsr" / "X.npy", root / "snsr" / "Y.npy"
    X, Y = np.load(x), np.load(y)
    np.save(x, X[:, :47])
    with raises_about(x, "[n, 48]"):
        load_dataset("snsr", root)
    np.save(x, X)
    np.save(y, np.where(np.arange(len(Y)) == 7, 11.0, Y))
    with raises_about(y, "row 7", "0..10"):
        load_dataset("snsr", root)
    np.save(y, Y.astype(object), allow_pickle=True)  # pickled arrays are never loaded
    with raises_about(y, "cannot load"):
        load_dataset("snsr", root)
    y.write_bytes(b"not an npy file")
    with raises_about(y, "cannot load"):
        load_dataset("snsr", root)


def test_skab_timestamps_and_labels(mini, edit, raises_about):
    root = mini("skab")
    path = root / "skab" / "valve2" / "1.csv"
    original = path.read_bytes()
    edit(path, 3, lambda s: "2020-13-40 99:00:00" + s[s.index(";") :])
    with raises_about(path, "line 3", "datetime", "2020-13-40"):
        load_skab_runs(root)
    path.write_bytes(original)
    edit(path, 4, lambda s: "2000-01-01 00:00:00" + s[s.index(";") :])
    with raises_about(path, "line 4", "timestamps must increase"):
        load_dataset("skab", root)
    path.write_bytes(original)
    edit(path, 5, lambda s: s[: s.rindex(";", 0, s.rindex(";"))] + ";0.5;0.0")
    with raises_about(path, "line 5", "anomaly", "0 or 1"):
        load_skab_runs(root)


def test_skab_anomaly_free_header(mini, edit, raises_about):
    root = mini("skab")
    path = root / "skab" / "anomaly-free" / "anomaly-free.csv"
    assert len(load_skab_anomaly_free(root)) == 5
    edit(path, 1, lambda s: s + ";anomaly")
    assert len(load_skab_anomaly_free(root)) == 5  # cached in memory until clear_cache()
    clear_cache()
    with raises_about(path, "bad header"):
        load_skab_anomaly_free(root)


def test_blank_lines_are_skipped_and_line_numbers_stay_true(mini, edit, cell, raises_about):
    root = mini("eopt")
    path = root / "eopt" / "HRSS_anomalous_optimized.csv"
    edit(path, 2, lambda s: s + "\n")  # a blank line after line 2 shifts the rest down by one
    edit(path, 5, cell(",", 2, "bad"))
    with raises_about(path, "line 5", "I_w_BLO_Weg", "'bad'"):
        load_dataset("eopt", root)
