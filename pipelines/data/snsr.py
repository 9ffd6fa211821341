"""SNSR: UCI sensorless drive diagnosis, the 2,200-row stratified subset (snsr/X.npy, Y.npy).

48 features, 11 classes x 200 rows; class c here is UCI class c+1 (UCI class 1 = intact drive). A subset: numbers on
it are not comparable with the papers' SNSR column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .tables import DataError, Dataset, readonly, require_dir, require_file

N_FEATURES = 48
N_CLASSES = 11
CLASS_NAMES: tuple[str, ...] = tuple(f"uci_class_{c + 1}" for c in range(N_CLASSES))


def _load_npy(path: Path) -> np.ndarray:
    require_file(path)
    try:
        arr: np.ndarray = np.load(path, allow_pickle=False)
        return arr
    except (ValueError, OSError, EOFError) as e:
        raise DataError(f"{path}: cannot load as .npy: {e}") from e


def load_snsr(root: Path) -> Dataset:
    folder = require_dir(root / "snsr")
    X = _load_npy(folder / "X.npy")
    Y = _load_npy(folder / "Y.npy")
    if X.ndim != 2 or X.shape[1] != N_FEATURES or not np.issubdtype(X.dtype, np.number):
        raise DataError(f"{folder / 'X.npy'}: expected numeric [n, {N_FEATURES}], got {X.dtype} {X.shape}")
    if Y.shape != (X.shape[0],):
        raise DataError(f"{folder / 'Y.npy'}: expected shape ({X.shape[0]},) to match X.npy, got {Y.shape}")
    X = X.astype(np.float64)
    if not np.isfinite(X).all():
        raise DataError(f"{folder / 'X.npy'}: non-finite value at row {int(np.argwhere(~np.isfinite(X))[0, 0])}")
    bad = np.flatnonzero(~np.isin(Y, np.arange(N_CLASSES)))
    if bad.size:
        raise DataError(f"{folder / 'Y.npy'}: row {bad[0]}: expected a class id 0..{N_CLASSES - 1}, got {Y[bad[0]]!r}")
    names = tuple(f"f{j:02d}" for j in range(N_FEATURES))
    return Dataset("snsr", readonly(X), readonly(Y.astype(np.int64)), "multi", names, None, CLASS_NAMES)
