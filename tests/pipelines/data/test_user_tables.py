"""CSV and Parquet (pipelines/data/user_tables.py): the columnar reader gives what the row reader gives, and a file
only the row reader can judge (a null, a timestamp typed column) still names its row and column."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.data import DataError, user_tables
from pipelines.data.user_tables import _csv_rows, read_table_file
from pipelines.sources import WindowSpec, streams


@pytest.fixture(scope="module")
def run(real_dir):
    s = streams("skab", real_dir, WindowSpec(10, 5))[3]
    return s.asset, s.ts_ms[:80], s.X[:80, :6]


def test_the_columnar_and_the_row_reader_agree_on_a_real_csv(run, tmp_path, monkeypatch):
    asset, ts, X = run
    p = tmp_path / "w.csv"
    iso = [datetime.fromtimestamp(t / 1000, UTC).isoformat() for t in ts.tolist()]
    p.write_text(
        "asset, ts, a, b, c, d, e, f\n"
        + "".join(f"{asset},{t},{','.join(repr(v) for v in x)}\n" for t, x in zip(iso, X.tolist(), strict=True))
    )
    slow = _csv_rows(p, None)
    monkeypatch.setattr(user_tables, "_csv_rows", lambda *a: pytest.fail("the columnar path fell back"))
    fast = read_table_file(p)
    for got in (fast, slow):
        np.testing.assert_array_equal(got.X, X)
        assert got.ts_ms.tolist() == ts.tolist() and set(got.asset.tolist()) == {asset}
        assert got.feature_names == list("abcdef")


def test_parquet_with_a_timestamp_column_and_a_null(run, tmp_path):
    asset, ts, X = run
    cols = {"asset": [asset] * len(ts), "ts": pa.array(ts.astype("datetime64[ms]"), pa.timestamp("ms", tz="UTC"))}
    cols.update({f"s{j}": X[:, j] for j in range(6)})
    pq.write_table(pa.table(cols), tmp_path / "ok.parquet")
    got = read_table_file(tmp_path / "ok.parquet")
    assert got.ts_ms.tolist() == ts.tolist()
    np.testing.assert_array_equal(got.X, X)
    cols["s4"] = pa.array([*X[:40, 4].tolist(), None, *X[41:, 4].tolist()])
    pq.write_table(pa.table(cols), tmp_path / "null.parquet")
    with pytest.raises(DataError, match=r"null\.parquet: row 41, column 's4': None is not a finite number"):
        read_table_file(tmp_path / "null.parquet")


def test_a_header_only_csv_and_a_duplicate_column(tmp_path):
    (tmp_path / "h.csv").write_text("asset,ts,a\n")
    with pytest.raises(DataError, match=r"h\.csv: no rows"):
        read_table_file(tmp_path / "h.csv")
    (tmp_path / "d.csv").write_text("a,b,a\n1,2,3\n")
    with pytest.raises(DataError, match=r"d\.csv: column 'a' appears more than once"):
        read_table_file(tmp_path / "d.csv")
