"""STL: UCI steel plates faults (stl/Faults.NNA, names in Faults27x7_var.txt), RaPP's STL.

1,941 rows, 27 features, 7 fault classes from the 7 one-hot columns (exactly one 1 per row), y = index of the 1 in
CLASS_NAMES order. Quirk of this copy: every line is wrapped in double quotes (CRLF), TAB-separated inside, no header.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .tables import DataError, Dataset, Table, readonly, require_dir, require_file

N_FEATURES = 27
CLASS_NAMES: tuple[str, ...] = ("Pastry", "Z_Scratch", "K_Scatch", "Stains", "Dirtiness", "Bumps", "Other_Faults")


def _read_names(path: Path) -> tuple[str, ...]:
    require_file(path)
    names = tuple(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    if len(names) != N_FEATURES + len(CLASS_NAMES) or names[N_FEATURES:] != CLASS_NAMES:
        raise DataError(f"{path}: expected {N_FEATURES} feature names then {list(CLASS_NAMES)}, got {list(names)}")
    return names


def load_stl(root: Path) -> Dataset:
    folder = require_dir(root / "stl")
    names = _read_names(folder / "Faults27x7_var.txt")
    path = require_file(folder / "Faults.NNA")
    rows, lines = [], []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        cells = line.strip().strip('"').split("\t")
        if len(cells) != len(names):
            raise DataError(f"{path}: line {lineno} has {len(cells)} TAB-separated values, expected {len(names)}")
        rows.append(cells)
        lines.append(lineno)
    if not rows:
        raise DataError(f"{path}: no data rows")
    t = Table(path, names, rows, lines)
    X = t.floats(range(N_FEATURES))
    onehot = t.floats(range(N_FEATURES, len(names)))
    ok = ((onehot == 0) | (onehot == 1)).all(axis=1) & (onehot.sum(axis=1) == 1)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        msg = f"expected exactly one 1 among {list(CLASS_NAMES)}, got {rows[i][N_FEATURES:]}"
        raise t.fail(i, "fault one-hot", msg)
    y = onehot.argmax(axis=1).astype(np.int64)
    return Dataset("stl", readonly(X), readonly(y), "multi", names[:N_FEATURES], None, CLASS_NAMES)
