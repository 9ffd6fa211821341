"""NASA near-earth objects (nasa/nasa.csv), RaPP's NASA: 4,687 rows, y = Hazardous (755 TRUE).

Feature selection, applied as rules (the paper names only the count, 33):
- drop the ID columns `Neo Reference ID` and `Name` (equal to each other; an asteroid appears once per close
  approach, so 3,692 distinct IDs over 4,687 rows);
- drop the non-numeric columns `Close Approach Date`, `Orbit Determination Date` (dates), `Orbiting Body` (always
  Earth), `Equinox` (always J2000) and the label `Hazardous`;
- drop numeric columns that are constant over the file (none in this copy).
That leaves 33 dims, matching RaPP. They include the duplicated unit conversions (diameter in km/m/miles/feet,
velocity in km/s, km/h, mph, miss distance in au/lunar/km/miles) and `Epoch Date Close Approach` (the close
approach date as a number): dropping them would also be defensible but would no longer be RaPP's feature set, and
the autoencoder is scale-normalised anyway.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .tables import DataError, Dataset, read_table, readonly, require_dir

HEADER: tuple[str, ...] = (
    "Neo Reference ID",
    "Name",
    "Absolute Magnitude",
    "Est Dia in KM(min)",
    "Est Dia in KM(max)",
    "Est Dia in M(min)",
    "Est Dia in M(max)",
    "Est Dia in Miles(min)",
    "Est Dia in Miles(max)",
    "Est Dia in Feet(min)",
    "Est Dia in Feet(max)",
    "Close Approach Date",
    "Epoch Date Close Approach",
    "Relative Velocity km per sec",
    "Relative Velocity km per hr",
    "Miles per hour",
    "Miss Dist.(Astronomical)",
    "Miss Dist.(lunar)",
    "Miss Dist.(kilometers)",
    "Miss Dist.(miles)",
    "Orbiting Body",
    "Orbit ID",
    "Orbit Determination Date",
    "Orbit Uncertainity",
    "Minimum Orbit Intersection",
    "Jupiter Tisserand Invariant",
    "Epoch Osculation",
    "Eccentricity",
    "Semi Major Axis",
    "Inclination",
    "Asc Node Longitude",
    "Orbital Period",
    "Perihelion Distance",
    "Perihelion Arg",
    "Aphelion Dist",
    "Perihelion Time",
    "Mean Anomaly",
    "Mean Motion",
    "Equinox",
    "Hazardous",
)
ID_COLUMNS = ("Neo Reference ID", "Name")
TEXT_COLUMNS = ("Close Approach Date", "Orbiting Body", "Orbit Determination Date", "Equinox", "Hazardous")
LABEL_COLUMN = "Hazardous"


def load_nasa(root: Path) -> Dataset:
    t = read_table(require_dir(root / "nasa") / "nasa.csv", HEADER)
    cols = [j for j, h in enumerate(HEADER) if h not in ID_COLUMNS + TEXT_COLUMNS]
    X = t.floats(cols)
    keep = X.max(axis=0) > X.min(axis=0)
    X, names = X[:, keep], tuple(HEADER[j] for j, k in zip(cols, keep, strict=False) if k)
    labels = [v.strip().upper() for v in t.strings(t.col(LABEL_COLUMN))]
    for i, v in enumerate(labels):
        if v not in ("TRUE", "FALSE"):
            raise t.fail(i, LABEL_COLUMN, f"expected TRUE or FALSE, got {t.rows[i][t.col(LABEL_COLUMN)]!r}")
    y = np.array([v == "TRUE" for v in labels], dtype=np.int64)
    if X.shape[1] == 0:
        raise DataError(f"{t.path}: every numeric column is constant")
    return Dataset("nasa", readonly(X), readonly(y), "single", names)
