"""SKAB: the Skoltech anomaly benchmark water-circulation testbed (skab/), 8 sensors at ~1 Hz.

The 34 labelled runs are RUNS (valve1/0..15, valve2/0..3, other/1..14, in that order); `load_skab` concatenates
them into one "single" data set (37,401 rows; groups = index into RUNS). For streaming work use `load_skab_runs`,
which keeps each run separate with its timestamps. Timestamps are not a strict 1 Hz grid: about 5 % of steps are
2-3 s and a few runs have one gap of about a minute or more (e.g. other/2: 247 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .tables import Dataset, Table, parse_binary, read_table, readonly, require_dir

SENSOR_COLUMNS: tuple[str, ...] = (
    "Accelerometer1RMS",
    "Accelerometer2RMS",
    "Current",
    "Pressure",
    "Temperature",
    "Thermocouple",
    "Voltage",
    "Volume Flow RateRMS",
)
LABELLED_HEADER = ("datetime",) + SENSOR_COLUMNS + ("anomaly", "changepoint")
FREE_HEADER = ("datetime",) + SENSOR_COLUMNS
RUNS: tuple[str, ...] = (
    tuple(f"valve1/{i}" for i in range(16))
    + tuple(f"valve2/{i}" for i in range(4))
    + tuple(f"other/{i}" for i in range(1, 15))
)
ANOMALY_FREE = "anomaly-free/anomaly-free"


@dataclass(frozen=True)
class SkabRun:
    """One SKAB file: values float64 [n, 8] (SENSOR_COLUMNS order), anomaly / changepoint int64 0/1 [n],
    timestamps datetime64[s] [n] (strictly increasing). Arrays are read-only (cached)."""

    name: str
    values: np.ndarray
    anomaly: np.ndarray
    changepoint: np.ndarray
    timestamps: np.ndarray

    def __len__(self) -> int:
        return int(self.values.shape[0])


def _timestamps(t: Table) -> np.ndarray:
    cells = t.strings(0)
    try:
        ts = np.array(cells, dtype="datetime64[s]")
    except ValueError:
        for i, c in enumerate(cells):
            try:
                np.datetime64(c, "s")
            except ValueError:
                raise t.fail(i, "datetime", f"expected 'YYYY-MM-DD HH:MM:SS', got {c!r}") from None
        raise
    bad = np.flatnonzero(np.diff(ts) <= np.timedelta64(0, "s"))
    if bad.size:
        i = int(bad[0]) + 1
        raise t.fail(i, "datetime", f"timestamps must increase, {cells[i]!r} follows {cells[i - 1]!r}")
    return ts


def _read_run(folder: Path, name: str, labelled: bool) -> SkabRun:
    t = read_table(folder / f"{name}.csv", LABELLED_HEADER if labelled else FREE_HEADER, delimiter=";")
    values = t.floats(range(1, 1 + len(SENSOR_COLUMNS)))
    if labelled:
        labels = t.floats([9, 10])
        anomaly = parse_binary(labels[:, 0], t, "anomaly")
        changepoint = parse_binary(labels[:, 1], t, "changepoint")
    else:
        anomaly = changepoint = np.zeros(len(t.rows), dtype=np.int64)
    return SkabRun(name, readonly(values), readonly(anomaly), readonly(changepoint), readonly(_timestamps(t)))


@lru_cache(maxsize=4)
def _runs(root: Path) -> tuple[SkabRun, ...]:
    folder = require_dir(root / "skab")
    return tuple(_read_run(folder, name, labelled=True) for name in RUNS)


@lru_cache(maxsize=4)
def _free(root: Path) -> SkabRun:
    return _read_run(require_dir(root / "skab"), ANOMALY_FREE, labelled=False)


def load_skab(root: Path) -> Dataset:
    runs = _runs(root)
    X = np.concatenate([r.values for r in runs])
    y = np.concatenate([r.anomaly for r in runs])
    groups = np.concatenate([np.full(len(r), g, dtype=np.int64) for g, r in enumerate(runs)])
    return Dataset("skab", readonly(X), readonly(y), "single", SENSOR_COLUMNS, readonly(groups))


def skab_runs(root: Path) -> list[SkabRun]:
    return list(_runs(root))


def skab_anomaly_free(root: Path) -> SkabRun:
    """The anomaly-free run (9,405 rows); it has no label columns, so anomaly and changepoint are all 0."""
    return _free(root)
