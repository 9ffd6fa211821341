"""Window streams built from the shared data sets, used alike by training and by the replay producer.

Tabular sets (mi-f, mi-v, eopt, snsr, nasa, stl) are already one feature vector per window: each row is a window
and each group (CNC experiment, EOPT file) an asset. SKAB is a raw 1 Hz time series: each run is an asset and its
windows come from `pipelines.data.windowing` with one `WindowSpec`, the same one the model was trained with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.data import load_dataset, load_skab_anomaly_free, load_skab_runs
from pipelines.data.skab import SENSOR_COLUMNS, SkabRun
from pipelines.data.windowing import window_end_index, window_feature_names, window_labels, window_vectors

TABULAR = ("mi-f", "mi-v", "eopt", "snsr", "nasa", "stl")
TIME_SERIES = ("skab",)  # sources whose normal windows are time-ordered runs (training splits them in time)
SOURCES = (*TABULAR, *TIME_SERIES)
EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z, the clock for tabular rows that carry no time of their own


@dataclass(frozen=True)
class WindowSpec:
    length: int = 10
    stride: int = 1
    mode: str = "summary"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WindowStream:
    """One asset's windows in time order: X [m, d], y [m] (1 anomalous, 0 normal), ts_ms [m] window end."""

    asset: str
    X: np.ndarray
    y: np.ndarray
    ts_ms: np.ndarray


def _skab_stream(run: SkabRun, spec: WindowSpec, prefix: str = "skab/") -> WindowStream:
    X = window_vectors(run.values, spec.length, spec.stride, spec.mode)
    ends = window_end_index(len(run), spec.length, spec.stride)
    ts = run.timestamps[ends].astype("datetime64[ms]").astype(np.int64)
    return WindowStream(prefix + run.name, X, window_labels(run.anomaly, spec.length, spec.stride), ts)


def streams(source: str, data_dir: str | Path | None = None, spec: WindowSpec = WindowSpec()) -> list[WindowStream]:
    """Every window of a data set as per-asset streams (labelled; for replay and offline scoring)."""
    if source == "skab":
        return [_skab_stream(r, spec) for r in load_skab_runs(data_dir)]
    if source not in TABULAR:
        raise ValueError(f"unknown source {source!r}; choose from {list(SOURCES)}")
    ds = load_dataset(source, data_dir)
    y = ds.y if ds.kind == "single" else (ds.y != 0).astype(np.int64)
    groups = ds.groups if ds.groups is not None else np.zeros(len(y), dtype=np.int64)
    out = []
    for g in np.unique(groups):
        rows = np.flatnonzero(groups == g)
        out.append(WindowStream(f"{source}/{int(g)}", ds.X[rows], y[rows], EPOCH_MS + rows.astype(np.int64) * 1000))
    return out


def normal_windows(
    source: str, data_dir: str | Path | None = None, spec: WindowSpec = WindowSpec(), normal_class: int = 0
) -> np.ndarray:
    """Training windows: the normal rows of a tabular set (for multi-class sets, one class), or for SKAB the
    anomaly-free run plus the leading normal windows (first 400 rows, SKAB's own training span) of each run."""
    if source in TIME_SERIES:
        return np.vstack(normal_window_parts(source, data_dir, spec))
    if source not in TABULAR:
        raise ValueError(f"unknown source {source!r}; choose from {list(SOURCES)}")
    ds = load_dataset(source, data_dir)
    mask = ds.y == 0 if ds.kind == "single" else ds.y == normal_class
    return np.asarray(ds.X[mask], dtype=np.float64)


def normal_window_parts(
    source: str, data_dir: str | Path | None = None, spec: WindowSpec = WindowSpec()
) -> list[np.ndarray]:
    """A time-series source's training windows as its time-ordered runs (``normal_windows`` stacks them): for SKAB
    the anomaly-free run, then each run's normal windows among its first 400 rows."""
    if source != "skab":
        raise ValueError(f"{source!r} is not a time-series source; those are {list(TIME_SERIES)}")
    parts = [_skab_stream(load_skab_anomaly_free(data_dir), spec).X]
    for run in load_skab_runs(data_dir):
        head = run.values[:400]
        if len(head) >= spec.length:
            w = window_vectors(head, spec.length, spec.stride, spec.mode)
            parts.append(w[window_labels(run.anomaly[:400], spec.length, spec.stride) == 0])
    return parts


def feature_names(source: str, window: WindowSpec, data_dir: str | None) -> list[str]:
    """The names of the model's input features, recorded in the artifact (alerts name sensors by them)."""
    if source == "skab":
        return list(window_feature_names(SENSOR_COLUMNS, window.length, window.mode))
    return [str(n) for n in load_dataset(source, data_dir).feature_names]
