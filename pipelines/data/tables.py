"""Shared pieces of the loaders: the error type, the Dataset record and strict table parsing.

Every loader checks the header it reads against the schema it expects and parses numbers strictly, so a changed or
damaged file fails loudly with its path (and line/column) instead of silently shifting columns.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class DataError(Exception):
    """A data set is missing or malformed; the message names the file (and line/column where relevant)."""


@dataclass(frozen=True)
class Dataset:
    """One tabular data set, rows are samples.

    kind "single": y is 0 normal / 1 anomaly. kind "multi": y is a class id 0..C-1 (class_names[c] names it).
    groups: int64 id per row of the unit the row came from (experiment, file), or None. Arrays are read-only
    because loaded data sets are cached in memory and shared between callers.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    kind: str
    feature_names: tuple[str, ...]
    groups: np.ndarray | None = None
    class_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("single", "multi"):
            raise ValueError(f"kind must be 'single' or 'multi', got {self.kind!r}")
        n, d = self.X.shape
        if self.y.shape != (n,) or len(self.feature_names) != d:
            raise ValueError(f"{self.name}: X {self.X.shape}, y {self.y.shape}, {len(self.feature_names)} names")
        if self.groups is not None and self.groups.shape != (n,):
            raise ValueError(f"{self.name}: groups {self.groups.shape} for {n} rows")
        if self.kind == "multi" and not self.class_names:
            raise ValueError(f"{self.name}: a multi-class data set needs class_names")

    @property
    def n_classes(self) -> int:
        return 2 if self.kind == "single" else len(self.class_names or ())


def readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def require_dir(path: Path) -> Path:
    if not path.is_dir():
        raise DataError(f"data folder not found: {path}")
    return path


def require_file(path: Path) -> Path:
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    return path


@dataclass(frozen=True)
class Table:
    """Raw cells of a delimited file; lines[i] is the 1-based file line of rows[i] (for error messages)."""

    path: Path
    header: tuple[str, ...]
    rows: list[list[str]]
    lines: Sequence[int]

    def col(self, name: str) -> int:
        return self.header.index(name)

    def floats(self, cols: Sequence[int]) -> np.ndarray:
        """The given columns as float64 [n, len(cols)]; any non-numeric or non-finite cell is a DataError."""
        cols = list(cols)
        if cols == list(range(cols[0], cols[0] + len(cols))):
            a, b = cols[0], cols[0] + len(cols)
            sub = [r[a:b] for r in self.rows]
        else:
            sub = [[r[j] for j in cols] for r in self.rows]
        try:
            out = np.array(sub, dtype=np.float64).reshape(len(sub), len(cols))
        except ValueError:
            out = None
        if out is not None and np.isfinite(out).all():
            return out
        for i, r in enumerate(sub):  # slow path only to locate the bad cell
            for k, cell in enumerate(r):
                try:
                    ok = np.isfinite(float(cell))
                except ValueError:
                    ok = False
                if not ok:
                    raise self.fail(i, self.header[cols[k]], f"expected a finite number, got {cell!r}")
        raise AssertionError("unreachable")  # pragma: no cover

    def strings(self, j: int) -> list[str]:
        return [r[j] for r in self.rows]

    def fail(self, i: int, column: str, msg: str) -> DataError:
        return DataError(f"{self.path}: line {self.lines[i]}, column {column!r}: {msg}")


def read_table(path: Path, expected_header: Sequence[str], delimiter: str = ",") -> Table:
    """Read a delimited file with a header row, checking the header and every row's cell count.

    Handles LF, CRLF and bare-CR line endings (cnc/experiment_12.csv uses bare CR). Blank lines are skipped.
    """
    require_file(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                raise DataError(f"{path}: empty file, expected header {list(expected_header)}")
            header = [h.strip() for h in header]
            if header and header[0].startswith("\ufeff"):
                header[0] = header[0][1:]
            if tuple(header) != tuple(expected_header):
                raise DataError(f"{path}: bad header {header}, expected {list(expected_header)}")
            rows = list(reader)
            one_line_each = reader.line_num == len(rows) + 1
    except (UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"{path}: cannot parse: {e}") from e
    width = len(header)
    if one_line_each and all(len(r) == width for r in rows):
        return _nonempty(Table(path, tuple(header), rows, range(2, len(rows) + 2)))
    # slow path: blank lines, multi-line quoted cells or a bad row; re-read to know each row's file line
    rows, lines = [], []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f, delimiter=delimiter)
        next(reader)
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != width:
                raise DataError(f"{path}: line {reader.line_num} has {len(row)} columns, expected {width}")
            rows.append(row)
            lines.append(reader.line_num)
    return _nonempty(Table(path, tuple(header), rows, lines))


def _nonempty(t: Table) -> Table:
    if not t.rows:
        raise DataError(f"{t.path}: no data rows")
    return t


def parse_binary(values: np.ndarray, table: Table, column: str) -> np.ndarray:
    """float 0/1 cells -> int64, anything else is a DataError naming the first bad line."""
    bad = np.flatnonzero((values != 0) & (values != 1))
    if bad.size:
        raise table.fail(int(bad[0]), column, f"expected 0 or 1, got {values[bad[0]]!r}")
    return values.astype(np.int64)
