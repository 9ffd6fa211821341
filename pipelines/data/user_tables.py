"""CSV and Parquet training files, one window per row: an optional ``asset`` column, an optional ``ts`` column (epoch
milliseconds or ISO-8601), and every other column a value column, in file order (their names become the model's
feature names); ``value_columns`` picks and orders them instead, and then any other column is unknown.

A file is read by pyarrow and checked column by column; one that this cannot take whole (a ragged row, an empty,
non-finite or non-numeric cell) is read again row by row, which finds the first bad row and names it with its
column. Rows are numbered from 1 after the header.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.data.tables import DataError
from pipelines.data.user_windows import UserWindows, parse_ts

RESERVED = ("asset", "ts")


class _RowByRow(Exception):
    """The columnar path cannot take this file; the row reader will say where and why."""


def value_columns(path: Path, header: Sequence[str], expected: Sequence[str] | None) -> list[str]:
    """The value columns of a file with this header; ``expected``: the layout it must have (the first file's)."""
    if len(set(header)) != len(header):
        dup = sorted({c for c in header if list(header).count(c) > 1})
        raise DataError(f"{path}: column {dup[0]!r} appears more than once")
    values = [c for c in header if c not in RESERVED]
    if expected is None:
        if not values:
            raise DataError(f"{path}: no value columns (only {list(header)})")
        return values
    unknown = [c for c in values if c not in expected]
    if unknown:
        raise DataError(
            f"{path}: unknown column {unknown[0]!r}; the value columns are {list(expected)} "
            f"(plus optional 'asset' and 'ts')"
        )
    missing = [c for c in expected if c not in values]
    if missing:
        raise DataError(f"{path}: no column {missing[0]!r}; the value columns are {list(expected)}")
    return list(expected)


def read_table_file(path: Path, expected: Sequence[str] | None = None) -> UserWindows:
    import pyarrow as pa

    try:
        table = _read_arrow(path)
    except pa.ArrowInvalid as e:
        if path.suffix == ".parquet":
            raise DataError(f"{path}: cannot read it as Parquet: {e}") from None
        return _csv_rows(path, expected)  # a ragged row, most likely: the row reader names it
    header = [c.strip() for c in table.column_names]
    names = value_columns(path, header, expected)
    try:
        return _columnar(path, table.rename_columns(header), names)
    except _RowByRow:
        if path.suffix == ".parquet":
            columns = [table.column(c).to_pylist() for c in table.column_names]
            return _rows(path, header, zip(*columns, strict=True), names)
        return _csv_rows(path, expected)


def _read_arrow(path: Path) -> Any:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path)
    import pyarrow.csv as pcsv

    return pcsv.read_csv(path)


def _columnar(path: Path, table: Any, names: list[str]) -> UserWindows:
    import pyarrow as pa
    import pyarrow.types as pt

    if table.num_rows == 0:
        raise DataError(f"{path}: no rows")
    cols = []
    for c in names:
        col = table.column(c)
        if not (pt.is_integer(col.type) or pt.is_floating(col.type)) or col.null_count:
            raise _RowByRow(c)
        cols.append(col.to_numpy().astype(np.float64))
    X = np.column_stack(cols)
    if not np.isfinite(X).all():
        raise _RowByRow("non-finite")
    asset = ts = None
    if "asset" in table.column_names:
        col = table.column("asset")
        asset = np.asarray(col.cast(pa.string()).to_pylist(), dtype=object)
        if col.null_count or (asset == "").any():
            raise _RowByRow("asset")
        asset = asset.astype(str)
    if "ts" in table.column_names:
        col = table.column("ts")
        if col.null_count:
            raise _RowByRow("ts")
        if pt.is_integer(col.type):
            ts = col.to_numpy().astype(np.int64)
        elif pt.is_timestamp(col.type):  # stored as UTC (or a wall clock taken as UTC)
            ts = col.cast(pa.timestamp("ms", tz=col.type.tz)).cast(pa.int64()).to_numpy()
        else:
            ts = np.array(
                [parse_ts(v, f"{path}: row {i}, column 'ts'") for i, v in enumerate(col.to_pylist(), 1)], dtype=np.int64
            )
    return UserWindows(X, names, asset, ts)


def _csv_rows(path: Path, expected: Sequence[str] | None) -> UserWindows:
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader, [])]
        if not header:
            raise DataError(f"{path}: empty file (expected a header: asset, ts, value columns)")
        return _rows(path, header, reader, value_columns(path, header, expected))


def _rows(path: Path, header: list[str], rows: Iterable[Sequence[Any]], names: list[str]) -> UserWindows:
    """The row reader: every cell checked in turn, so the first bad one is named by row and column."""
    index = {c: header.index(c) for c in header}
    cols = [index[c] for c in names]
    asset_i, ts_i = index.get("asset"), index.get("ts")
    X, assets, ts = [], [], []
    for r, row in enumerate(rows, start=1):
        if len(row) != len(header):
            raise DataError(f"{path}: row {r} has {len(row)} fields, the header has {len(header)} (wrong width)")
        vec = []
        for name, j in zip(names, cols, strict=True):
            cell = row[j]
            try:
                v = float(cell) if cell is not None and cell != "" else math.nan
            except (TypeError, ValueError):
                raise DataError(f"{path}: row {r}, column {name!r}: {str(cell)[:40]!r} is not a number") from None
            if not math.isfinite(v):
                raise DataError(f"{path}: row {r}, column {name!r}: {cell!r} is not a finite number (NaN/empty)")
            vec.append(v)
        X.append(vec)
        if asset_i is not None:
            if row[asset_i] in (None, ""):
                raise DataError(f"{path}: row {r}, column 'asset' is empty")
            assets.append(str(row[asset_i]))
        if ts_i is not None:
            ts.append(parse_ts(row[ts_i], f"{path}: row {r}, column 'ts'"))
    if not X:
        raise DataError(f"{path}: no rows")
    return UserWindows(
        np.asarray(X, dtype=np.float64),
        names,
        np.asarray(assets) if assets else None,
        np.asarray(ts, dtype=np.int64) if ts else None,
    )
