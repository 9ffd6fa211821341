"""CNC mill tool wear (cnc/): RaPP's MI-F and MI-V.

X = the 47 numeric columns + a one-hot of Machining_Process over every stage string found in all 18 experiments,
sorted ('End' and 'end' stay distinct: 11 stages, 58 dims). The one-hot categories are computed over all 18
experiments for both variants so MI-F and MI-V share one feature space. Labels are per experiment (train.csv),
broadcast to its rows; groups = experiment number (1..18).

- MI-F: all 25,286 rows, anomaly = machining_finalized == "no" (experiments 4, 5, 7, 16: 2,161 rows).
- MI-V: the 23,125 rows of finalized experiments, anomaly = passed_visual_inspection == "no" (6, 8, 9, 10: 3,942).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .tables import DataError, Dataset, Table, read_table, readonly, require_dir

NUMERIC_COLUMNS: tuple[str, ...] = tuple(
    """
    X1_ActualPosition X1_ActualVelocity X1_ActualAcceleration X1_CommandPosition X1_CommandVelocity
    X1_CommandAcceleration X1_CurrentFeedback X1_DCBusVoltage X1_OutputCurrent X1_OutputVoltage X1_OutputPower
    Y1_ActualPosition Y1_ActualVelocity Y1_ActualAcceleration Y1_CommandPosition Y1_CommandVelocity
    Y1_CommandAcceleration Y1_CurrentFeedback Y1_DCBusVoltage Y1_OutputCurrent Y1_OutputVoltage Y1_OutputPower
    Z1_ActualPosition Z1_ActualVelocity Z1_ActualAcceleration Z1_CommandPosition Z1_CommandVelocity
    Z1_CommandAcceleration Z1_CurrentFeedback Z1_DCBusVoltage Z1_OutputCurrent Z1_OutputVoltage S1_ActualPosition
    S1_ActualVelocity S1_ActualAcceleration S1_CommandPosition S1_CommandVelocity S1_CommandAcceleration
    S1_CurrentFeedback S1_DCBusVoltage S1_OutputCurrent S1_OutputVoltage S1_OutputPower S1_SystemInertia
    M1_CURRENT_PROGRAM_NUMBER M1_sequence_number M1_CURRENT_FEEDRATE
    """.split()
)
STAGE_COLUMN = "Machining_Process"
EXPERIMENT_HEADER = NUMERIC_COLUMNS + (STAGE_COLUMN,)
TRAIN_HEADER = (
    "No",
    "material",
    "feedrate",
    "clamp_pressure",
    "tool_condition",
    "machining_finalized",
    "passed_visual_inspection",
)


@dataclass(frozen=True)
class _Raw:
    numeric: np.ndarray  # float64 [n, 47]
    stages: np.ndarray  # str [n]
    experiment: np.ndarray  # int64 [n]
    finalized: dict[int, bool]
    passed: dict[int, bool | None]  # None where not finalized (inspection not done)


def _yes_no(table: Table, i: int, column: str, allow_empty: bool) -> bool | None:
    v: str = table.rows[i][table.col(column)].strip()
    if v in ("yes", "no"):
        return v == "yes"
    if allow_empty and v == "":
        return None
    raise table.fail(i, column, f"expected 'yes' or 'no', got {v!r}")


@lru_cache(maxsize=4)
def _load_raw(root: Path) -> _Raw:
    folder = require_dir(root / "cnc")
    meta = read_table(folder / "train.csv", TRAIN_HEADER)
    finalized: dict[int, bool] = {}
    passed: dict[int, bool | None] = {}
    for i, row in enumerate(meta.rows):
        try:
            no = int(row[0])
        except ValueError:
            raise meta.fail(i, "No", f"expected an experiment number, got {row[0]!r}") from None
        if no in finalized:
            raise meta.fail(i, "No", f"experiment {no} listed twice")
        finalized[no] = bool(_yes_no(meta, i, "machining_finalized", allow_empty=False))
        passed[no] = _yes_no(meta, i, "passed_visual_inspection", allow_empty=not finalized[no])
    numeric, stages, experiment = [], [], []
    for no in sorted(finalized):
        t = read_table(folder / f"experiment_{no:02d}.csv", EXPERIMENT_HEADER)
        numeric.append(t.floats(range(len(NUMERIC_COLUMNS))))
        stages.append(np.array([s.strip() for s in t.strings(len(NUMERIC_COLUMNS))]))
        experiment.append(np.full(len(t.rows), no, dtype=np.int64))
    if any((s == "").any() for s in stages):
        raise DataError(f"{folder}: empty {STAGE_COLUMN} cell")
    return _Raw(np.concatenate(numeric), np.concatenate(stages), np.concatenate(experiment), finalized, passed)


def _build(name: str, raw: _Raw, mask: np.ndarray, y: np.ndarray) -> Dataset:
    categories = sorted(set(raw.stages.tolist()))
    onehot = (raw.stages[:, None] == np.array(categories)[None, :]).astype(np.float64)
    X = np.hstack([raw.numeric, onehot])[mask]
    names = NUMERIC_COLUMNS + tuple(f"{STAGE_COLUMN}={c}" for c in categories)
    return Dataset(name, readonly(X), readonly(y[mask]), "single", names, readonly(raw.experiment[mask]))


def load_mi_f(root: Path) -> Dataset:
    raw = _load_raw(root)
    y = np.array([not raw.finalized[e] for e in raw.experiment.tolist()], dtype=np.int64)
    return _build("mi-f", raw, np.ones(len(y), dtype=bool), y)


def load_mi_v(root: Path) -> Dataset:
    raw = _load_raw(root)
    mask = np.array([raw.finalized[e] for e in raw.experiment.tolist()], dtype=bool)
    y = np.array([raw.passed[e] is False for e in raw.experiment.tolist()], dtype=np.int64)
    return _build("mi-v", raw, mask, y)
