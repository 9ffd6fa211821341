"""EOPT: the high-rack storage system (HRSS) drives (eopt/), RaPP's EOPT.

All four files concatenated in FILES order (90,515 rows); X = the 18 sensor columns (6 drives x position, power,
voltage), y = Labels (10,187 anomalies, all in the two "anomalous" files), groups = index into FILES.
Timestamp is dropped: it is seconds since the start of a storage cycle, not a measurement.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .tables import Dataset, parse_binary, read_table, readonly, require_dir

FILES: tuple[str, ...] = (
    "HRSS_normal_standard.csv",
    "HRSS_normal_optimized.csv",
    "HRSS_anomalous_standard.csv",
    "HRSS_anomalous_optimized.csv",
)
SENSOR_COLUMNS: tuple[str, ...] = tuple(
    f"{kind}_{drive}_{q}"
    for drive in ("BLO", "BHL", "BHR", "BRU", "HR", "HL")
    for kind, q in (("I_w", "Weg"), ("O_w", "power"), ("O_w", "voltage"))
)
HEADER = ("Timestamp", "Labels") + SENSOR_COLUMNS


def load_eopt(root: Path) -> Dataset:
    folder = require_dir(root / "eopt")
    xs, ys, gs = [], [], []
    for g, fname in enumerate(FILES):
        t = read_table(folder / fname, HEADER)
        cells = t.floats(range(len(HEADER)))  # Timestamp too: a damaged one means a damaged file
        xs.append(cells[:, 2:])
        ys.append(parse_binary(cells[:, 1], t, "Labels"))
        gs.append(np.full(len(t.rows), g, dtype=np.int64))
    X, y, groups = np.concatenate(xs), np.concatenate(ys), np.concatenate(gs)
    return Dataset("eopt", readonly(X), readonly(y), "single", SENSOR_COLUMNS, readonly(groups))
