"""Training data contaminated with anomalies (the LFR paper's setting, section 4: c = outliers / inliers).

The clean split of ``protocol.make_split`` is kept as it is (the same test rows as the clean table); then
round(c * n) anomalies that are not in the test set are mixed into the training part and round(c * m) into the
validation part (n, m: their normals), drawn without replacement from a stream seeded by (seed, the arrangement,
"contamination"). Validation is contaminated too: it stands for recent traffic, which early stopping and the
calibration read, and which is never perfectly clean either. Where too few spare anomalies exist the draw takes
them all; ``Contaminated.achieved`` says what ratio that gave (the record keeps it).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from pipelines.evaluate.protocol import Arrangement, Split


@dataclass(frozen=True)
class Contaminated:
    split: Split
    train_anomalies: int
    val_anomalies: int
    achieved: float  # anomalies / normals over training and validation together


def contaminate(split: Split, y: np.ndarray, arr: Arrangement, seed: int, c: float) -> Contaminated:
    """The split with anomalies mixed into training and validation at ratio ``c`` (see the module docstring)."""
    if not 0.0 <= c < 10.0 or not np.isfinite(c):
        raise ValueError(f"contamination must be a ratio of anomalies to normals in [0, 10), got {c!r}")
    n_tr, n_va = len(split.train), len(split.val)
    if c == 0.0:
        return Contaminated(split, 0, 0, 0.0)
    spare = np.setdiff1d(np.flatnonzero(~arr.normal_mask(y)), split.test, assume_unique=False)
    want_tr, want_va = int(round(c * n_tr)), int(round(c * n_va))
    rng = np.random.default_rng([int(seed), zlib.crc32(f"{arr.key}/contamination".encode())])
    drawn = rng.permutation(spare)[: want_tr + want_va]
    got_tr = min(want_tr, int(round(len(drawn) * want_tr / max(want_tr + want_va, 1))))
    add_tr, add_va = drawn[:got_tr], drawn[got_tr:]
    out = Split(
        train=np.sort(np.concatenate([split.train, add_tr])),
        val=np.sort(np.concatenate([split.val, add_va])),
        test=split.test,
        y_test=split.y_test,
    )
    return Contaminated(out, len(add_tr), len(add_va), len(drawn) / max(n_tr + n_va, 1))
