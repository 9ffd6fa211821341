"""The user's training files (pipelines/data/user_files.py): real SKAB windows written as CSV, Parquet, .npy, .npz
read back exactly, and each kind of bad input an error naming the file, row and column."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from pipelines.data import DataError
from pipelines.data.skab import SENSOR_COLUMNS
from pipelines.data.user_files import read_files
from pipelines.data.windowing import window_feature_names
from pipelines.sources import WindowSpec, streams

NAMES = list(window_feature_names(SENSOR_COLUMNS, 10, "summary"))


@pytest.fixture(scope="module")
def skab(real_dir):
    """The first 60 windows of two SKAB runs: (asset, ts_ms, X) rows."""
    got = streams("skab", real_dir, WindowSpec(10, 5))[:2]
    return [(s.asset, int(t), x) for s in got for t, x in zip(s.ts_ms[:60], s.X[:60], strict=True)]


def write_csv(path: Path, rows, header=None) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header or ["asset", "ts", *NAMES])
        w.writerows([a, t, *x.tolist()] if not isinstance(x, list) else [a, t, *x] for a, t, x in rows)
    return path


def test_csv_and_parquet_give_back_the_windows_assets_times_and_names(skab, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    a = write_csv(tmp_path / "a.csv", skab[:70])
    cols = {"asset": [r[0] for r in skab[70:]], "ts": [r[1] for r in skab[70:]]}
    cols.update({n: [float(r[2][j]) for r in skab[70:]] for j, n in enumerate(NAMES)})
    b = tmp_path / "b.parquet"
    pq.write_table(pa.table(cols), b)
    got = read_files([a, b])
    assert got.feature_names == NAMES
    np.testing.assert_array_equal(got.X, np.array([r[2] for r in skab]))
    assert got.asset.tolist() == [r[0] for r in skab]
    assert got.ts_ms.tolist() == [r[1] for r in skab]
    assert len({*got.asset.tolist()}) == 2


def test_iso_times_and_a_chosen_column_order(skab, tmp_path):
    from datetime import UTC, datetime

    rows = [(a, datetime.fromtimestamp(t / 1000, UTC).isoformat(), x) for a, t, x in skab[:5]]
    got = read_files([write_csv(tmp_path / "iso.csv", rows)], value_columns=NAMES[::-1])
    assert got.ts_ms.tolist() == [r[1] for r in skab[:5]]
    np.testing.assert_array_equal(got.X, np.array([r[2][::-1] for r in skab[:5]]))
    assert got.feature_names == NAMES[::-1]


def test_npy_and_npz(skab, tmp_path):
    X = np.array([r[2] for r in skab])
    np.save(tmp_path / "x.npy", X[:50])
    np.savez(
        tmp_path / "y.npz", X=X[50:], asset=np.array([r[0] for r in skab[50:]]), ts=np.array([r[1] for r in skab[50:]])
    )
    got = read_files([tmp_path / "x.npy"])
    np.testing.assert_array_equal(got.X, X[:50])
    assert got.feature_names == [f"x{j}" for j in range(40)] and got.ts_ms is None
    z = read_files([tmp_path / "y.npz"])
    assert z.asset.tolist() == [r[0] for r in skab[50:]] and z.ts_ms.tolist() == [r[1] for r in skab[50:]]


def test_a_short_csv_row_names_file_and_row(skab, tmp_path):
    p = write_csv(tmp_path / "short.csv", skab[:4])
    lines = p.read_text().splitlines()
    lines[3] = ",".join(lines[3].split(",")[:-1])  # data row 3 loses its last value
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"short\.csv: row 3 has 41 fields, the header has 42 \(wrong width\)"):
        read_files([p])


def test_a_nan_names_file_row_and_column(skab, tmp_path):
    rows = [(a, t, x.tolist()) for a, t, x in skab[:5]]
    rows[4][2][7] = float("nan")
    with pytest.raises(DataError, match=rf"nan\.csv: row 5, column '{NAMES[7]}': .*not a finite number"):
        read_files([write_csv(tmp_path / "nan.csv", rows)])
    X = np.array([r[2] for r in skab[:5]])
    X[2, 3] = np.nan
    np.save(tmp_path / "nan.npy", X)
    with pytest.raises(DataError, match=r"nan\.npy: row 3, column 3: nan is not a finite number"):
        read_files([tmp_path / "nan.npy"])


def test_a_non_number_names_file_row_and_column(skab, tmp_path):
    rows = [(a, t, x.tolist()) for a, t, x in skab[:3]]
    rows[1][2][0] = "high"
    with pytest.raises(DataError, match=rf"word\.csv: row 2, column '{NAMES[0]}': 'high' is not a number"):
        read_files([write_csv(tmp_path / "word.csv", rows)])


def test_an_unknown_column_names_the_file_and_column(skab, tmp_path):
    a = write_csv(tmp_path / "a.csv", skab[:3])
    b = write_csv(
        tmp_path / "b.csv",
        [(x, t, [*v.tolist(), 1.0]) for x, t, v in skab[:3]],
        header=["asset", "ts", *NAMES, "Humidity"],
    )
    with pytest.raises(DataError, match=r"b\.csv: unknown column 'Humidity'"):
        read_files([a, b])
    with pytest.raises(DataError, match=r"a\.csv: no column 'Humidity'"):
        read_files([a], value_columns=[*NAMES, "Humidity"])


def test_npy_of_another_width_or_shape(skab, tmp_path):
    X = np.array([r[2] for r in skab[:5]])
    np.save(tmp_path / "a.npy", X)
    np.save(tmp_path / "b.npy", X[:, :39])
    np.save(tmp_path / "c.npy", X[0])
    with pytest.raises(DataError, match=r"b\.npy: 39 features per row, the first file has 40 \(wrong width\)"):
        read_files([tmp_path / "a.npy", tmp_path / "b.npy"])
    with pytest.raises(DataError, match=r"c\.npy: X must be 2-d"):
        read_files([tmp_path / "c.npy"])
    np.savez(tmp_path / "d.npz", X=X, labels=np.zeros(5))
    with pytest.raises(DataError, match=r"d\.npz: unknown array 'labels'"):
        read_files([tmp_path / "d.npz"])


def test_a_bad_ts_and_an_unknown_suffix(skab, tmp_path):
    rows = [(a, t, x) for a, t, x in skab[:3]]
    rows[2] = (rows[2][0], "yesterday", rows[2][2])
    with pytest.raises(DataError, match=r"ts\.csv: row 3, column 'ts': ts 'yesterday' is neither"):
        read_files([write_csv(tmp_path / "ts.csv", rows)])
    (tmp_path / "w.xlsx").write_text("")
    with pytest.raises(DataError, match=r"w\.xlsx: unknown file type"):
        read_files([tmp_path / "w.xlsx"])
