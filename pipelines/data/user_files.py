"""Training windows from the user's own files, one window per row.

CSV and Parquet (``pipelines/data/user_tables.py``): an optional ``asset`` column, an optional ``ts`` column, and
every other column a value column. The first file fixes the layout (or ``value_columns`` does); a later file with
another column, or without one of the layout's, is an error. NumPy: ``.npy`` is one 2-d array [windows, features];
``.npz`` holds ``X`` and optionally ``asset`` and ``ts`` (one per window). Every error names the file, and the row
(1-based, after the header) and column where there is one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from pipelines.data.tables import DataError
from pipelines.data.user_tables import read_table_file
from pipelines.data.user_windows import UserWindows, parse_ts

SUFFIXES = (".csv", ".parquet", ".npy", ".npz")

__all__ = ["SUFFIXES", "UserWindows", "parse_ts", "read_files", "read_numpy"]


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
    return UserWindows(
        X,
        [f"x{j}" for j in range(X.shape[1])],
        None if asset is None else asset.astype(str),
        None if ts is None else ts.astype(np.int64),
    )


def read_files(
    paths: Sequence[str | Path],
    value_columns: Sequence[str] | None = None,
    wrap: Callable[[Iterable[Path]], Iterable[Path]] = lambda it: it,
) -> UserWindows:
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
            part = read_table_file(path, names)
        names = names or part.feature_names
        parts.append(part)
    if not parts:
        raise DataError("no files given")
    if len({p.asset is None for p in parts}) > 1 or len({p.ts_ms is None for p in parts}) > 1:
        raise DataError("some files have asset or ts and others do not; give them to every file or none")
    return UserWindows(
        np.vstack([p.X for p in parts]),
        list(names or []),
        None if parts[0].asset is None else np.concatenate([p.asset for p in parts]),
        None if parts[0].ts_ms is None else np.concatenate([p.ts_ms for p in parts]),
    )
