"""Loaders for the shared real data sets (read in place from the shared data folder, never copied) and the
windowing used by training and replay alike."""

from .registry import (
    DATASETS,
    DatasetSpec,
    clear_cache,
    load_dataset,
    load_skab_anomaly_free,
    load_skab_runs,
    resolve_data_dir,
)
from .skab import SkabRun
from .tables import DataError, Dataset

__all__ = [
    "DATASETS",
    "DataError",
    "Dataset",
    "DatasetSpec",
    "SkabRun",
    "clear_cache",
    "load_dataset",
    "load_skab_anomaly_free",
    "load_skab_runs",
    "resolve_data_dir",
]
