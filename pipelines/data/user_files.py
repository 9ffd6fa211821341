"""Training windows from the user's own files, one window per row.

CSV and Parquet: an optional ``asset`` column, an optional ``ts`` column (epoch milliseconds or ISO-8601; a naive
time is UTC), and every other column a value column, in file order; those names become the model's feature names.
The first file fixes the layout (or ``value_columns`` does); a later file with another column, or without one of the
layout's, is an error. NumPy: ``.npy`` is one 2-d array [windows, features]; ``.npz`` holds ``X`` and optionally
``asset`` and ``ts`` (one per window). Every error names the file, and the row (1-based, after the header) and
column where there is one.
"""
from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from pipelines.data.tables import DataError

SUFFIXES = (".csv", ".parquet", ".npy", ".npz")
RESERVED = ("asset", "ts")


@dataclass(frozen=True)
class UserWindows:
    """Windows X [n, d] with their feature names; ``asset`` and ``ts_ms`` [n] where the input had them."""

    X: np.ndarray
    feature_names: list[str]
    asset: np.ndarray | None = None
    ts_ms: np.ndarray | None = None


def parse_ts(value: object, where: str) -> int:
    """Epoch ms from an integer (or integral float) or an ISO-8601 string."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise DataError(f"{where}: ts {text[:40]!r} is neither epoch milliseconds nor ISO-8601") from None
    return int((dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp() * 1000)


def _value_columns(path: Path, header: Sequence[str], expected: Sequence[str] | None) -> list[str]:
    values = [c for c in header if c not in RESERVED]
    if len(set(header)) != len(header):
        dup = sorted({c for c in header if list(header).count(c) > 1})
        raise DataError(f"{path}: column {dup[0]!r} appears more than once")
    if expected is not None:
        unknown = [c for c in values if c not in expected]
        if unknown:
            raise DataError(f"{path}: unknown column {unknown[0]!r}; the value columns are {list(expected)} "
                            f"(plus optional 'asset' and 'ts')")
        missing = [c for c in expected if c not in values]
        if missing:
            raise DataError(f"{path}: no column {missing[0]!r}; the value columns are {list(expected)}")
        return list(expected)
    if not values:
        raise DataError(f"{path}: no value columns (only {list(header)})")
    return values


def _rows_to_windows(path: Path, header: list[str], rows: Iterable[Sequence[object]], names: list[str]) -> UserWindows:
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
                v = float(cell) if cell is not None and cell != "" else math.nan  # type: ignore[arg-type]
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
    return UserWindows(np.asarray(X, dtype=np.float64), names, np.asarray(assets) if assets else None,
                       np.asarray(ts, dtype=np.int64) if ts else None)


def read_csv(path: Path, value_columns: Sequence[str] | None = None) -> UserWindows:
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader, [])]
        if not header:
            raise DataError(f"{path}: empty file (expected a header: asset, ts, value columns)")
        names = _value_columns(path, header, value_columns)
        return _rows_to_windows(path, header, reader, names)


def read_parquet(path: Path, value_columns: Sequence[str] | None = None) -> UserWindows:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    header = list(table.column_names)
    names = _value_columns(path, header, value_columns)
    columns = [table.column(c).to_pylist() for c in header]
    return _rows_to_windows(path, header, zip(*columns, strict=True), names)


def read_numpy(path: Path, width: int | None = None) -> UserWindows:
    asset = ts = None
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            if "X" not in z:
                raise DataError(f"{path}: no array 'X' (found {sorted(z.files)})")
            unknown = sorted(set(z.files) - {"X", "asset", "ts"})
            if unknown:
                raise DataError(f"{path}: unknown array {unknown[0]!r}; an .npz holds X and optionally asset, ts")
            X, asset, ts = z["X"], z.get("asset"), z.get("ts")
    else:
        X = np.load(path, allow_pickle=False)
    if X.ndim != 2:
        raise DataError(f"{path}: X must be 2-d [windows, features], got shape {X.shape}")
    if width is not None and X.shape[1] != width:
        raise DataError(f"{path}: {X.shape[1]} features per row, the first file has {width} (wrong width)")
    X = X.astype(np.float64)
    bad = np.argwhere(~np.isfinite(X))
    if len(bad):
        r, c = bad[0]
        raise DataError(f"{path}: row {r + 1}, column {c}: {X[r, c]} is not a finite number")
    for name, arr in (("asset", asset), ("ts", ts)):
        if arr is not None and arr.shape != (len(X),):
            raise DataError(f"{path}: {name} has shape {arr.shape}, X has {len(X)} rows")
    return UserWindows(X, [f"x{j}" for j in range(X.shape[1])], None if asset is None else asset.astype(str),
                       None if ts is None else ts.astype(np.int64))


def read_files(paths: Sequence[str | Path], value_columns: Sequence[str] | None = None,
               wrap: Callable[[Iterable[Path]], Iterable[Path]] = lambda it: it) -> UserWindows:
    """All files' windows stacked in the order given; ``wrap`` is a progress bar over the files."""
    parts: list[UserWindows] = []
    names = list(value_columns) if value_columns else None
    for path in wrap([Path(p) for p in paths]):
        if path.suffix not in SUFFIXES:
            raise DataError(f"{path}: unknown file type {path.suffix!r}; read are {', '.join(SUFFIXES)}")
        if not path.is_file():
            raise DataError(f"{path}: no such file")
        if path.suffix in (".npy", ".npz"):
            part = read_numpy(path, len(names) if names else None)
        else:
            part = (read_csv if path.suffix == ".csv" else read_parquet)(path, names)
        names = names or part.feature_names
        parts.append(part)
    if not parts:
        raise DataError("no files given")
    if len({p.asset is None for p in parts}) > 1 or len({p.ts_ms is None for p in parts}) > 1:
        raise DataError("some files have asset or ts and others do not; give them to every file or none")
    return UserWindows(np.vstack([p.X for p in parts]), list(names or []),
                       None if parts[0].asset is None else np.concatenate([p.asset for p in parts]),
                       None if parts[0].ts_ms is None else np.concatenate([p.ts_ms for p in parts]))
