"""Where the data lives and which loader reads which name."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from . import cnc, eopt, nasa, skab, snsr, stl
from .tables import DataError, Dataset

ENV_VAR = "LATENTWATCH_DATA_DIR"
_REPO_ROOT = Path(__file__).resolve().parents[2]  # pipelines/data/registry.py -> repo root


def resolve_data_dir(explicit: str | Path | None = None) -> Path:
    """The shared data folder: `explicit`, else $LATENTWATCH_DATA_DIR, else ../shared/data next to the repo root,
    else ../shared/data relative to the cwd.

    An explicit argument or a set env var is authoritative: if it does not exist that is an error, not a reason
    to fall back silently to other data.
    """
    if explicit is not None:
        candidates = [Path(explicit)]
    elif os.environ.get(ENV_VAR):
        candidates = [Path(os.environ[ENV_VAR])]
    else:
        # the same folder twice when run from the repo root: name it once in the error
        candidates = list(dict.fromkeys([_REPO_ROOT / ".." / "shared" / "data", Path.cwd() / ".." / "shared" / "data"]))
    for c in candidates:
        if c.is_dir():
            return c.resolve()
    source = "argument" if explicit is not None else (f"${ENV_VAR}" if os.environ.get(ENV_VAR) else "defaults")
    raise DataError(f"data folder not found ({source}); tried: " + ", ".join(str(c) for c in candidates))


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    folder: str
    kind: str
    summary: str
    load: Callable[[Path], Dataset]


DATASETS: MappingProxyType[str, DatasetSpec] = MappingProxyType(
    {
        s.name: s
        for s in (
            DatasetSpec(
                "mi-f", "cnc", "single", "CNC milling, anomaly = machining not finalised (25,286 x 58)", cnc.load_mi_f
            ),
            DatasetSpec(
                "mi-v",
                "cnc",
                "single",
                "CNC milling, finalised runs, anomaly = failed visual inspection (23,125 x 58)",
                cnc.load_mi_v,
            ),
            DatasetSpec("eopt", "eopt", "single", "high-rack storage drives, 4 files (90,515 x 18)", eopt.load_eopt),
            DatasetSpec(
                "snsr", "snsr", "multi", "sensorless drive diagnosis subset, 11 classes (2,200 x 48)", snsr.load_snsr
            ),
            DatasetSpec(
                "nasa", "nasa", "single", "near-earth objects, anomaly = hazardous (4,687 x 33)", nasa.load_nasa
            ),
            DatasetSpec("stl", "stl", "multi", "steel plates faults, 7 classes (1,941 x 27)", stl.load_stl),
            DatasetSpec(
                "skab", "skab", "single", "SKAB, the 34 labelled runs concatenated (37,401 x 8)", skab.load_skab
            ),
        )
    }
)


@lru_cache(maxsize=32)
def _load(name: str, root: Path) -> Dataset:
    return DATASETS[name].load(root)


def load_dataset(name: str, data_dir: str | Path | None = None) -> Dataset:
    """Load a data set by name (see DATASETS). Cached in memory per (name, folder); arrays are read-only."""
    if name not in DATASETS:
        raise KeyError(f"unknown data set {name!r}; known: {sorted(DATASETS)}")
    return _load(name, resolve_data_dir(data_dir))


def load_skab_runs(data_dir: str | Path | None = None) -> list[skab.SkabRun]:
    """The 34 labelled SKAB runs, each kept separate (order = skab.RUNS)."""
    return skab.skab_runs(resolve_data_dir(data_dir))


def load_skab_anomaly_free(data_dir: str | Path | None = None) -> skab.SkabRun:
    return skab.skab_anomaly_free(resolve_data_dir(data_dir))


def clear_cache() -> None:
    """Forget every loaded data set (e.g. after the files changed on disk)."""
    _load.cache_clear()
    cnc._load_raw.cache_clear()
    skab._runs.cache_clear()
    skab._free.cache_clear()
