"""The ARES evaluation protocol (paper section 5.1): arrangements of normal/anomalous rows and their splits.

Arrangements
  single-class data sets: one arrangement, "labels": y == 0 normal, y == 1 anomaly.
  multi-class data sets: "unimodal" (class c normal, every other class anomalous) and "multimodal" (class c
  anomalous, every other class normal), one arrangement per class c, classes in class-id order.

Split rule (one split per arrangement and seed, deterministic given both)
  N = normal rows, A = anomalous rows of the arrangement.
  n_test = min(|A|, floor(|N| / 2)): the test set holds n_test anomalies and n_test normals (exactly 50:50), each
  drawn uniformly without replacement. Capping at half the normals keeps at least as many normals for training
  as for testing when anomalies outnumber normals (every unimodal arrangement).
  The normals not in the test set are shuffled and split 80:20: n_val = round(0.2 * rest), train = the others.
  Anomalies never enter train or validation; anomalies not drawn into the test set are not used at all.
  The random stream is seeded by (seed, crc32 of "<data set>/<setting>/<class>"), so each arrangement gets its own
  draw and a rerun with the same seed reproduces it bit for bit.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

VAL_FRACTION = 0.2
SETTINGS = ("labels", "unimodal", "multimodal")


@dataclass(frozen=True)
class Arrangement:
    """Which classes are normal for one model. ``cls`` is the class id the arrangement is named after
    (the normal class in unimodal, the anomalous class in multimodal, None for labelled data sets)."""

    dataset: str
    setting: str
    cls: int | None = None
    cls_name: str | None = None

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.setting}" + ("" if self.cls is None else f"/{self.cls}")

    def normal_mask(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y)
        if self.setting == "labels":
            return np.asarray(y == 0)
        if self.setting == "unimodal":
            return np.asarray(y == self.cls)
        if self.setting == "multimodal":
            return np.asarray(y != self.cls)
        raise ValueError(f"unknown setting {self.setting!r}; choose from {SETTINGS}")


def arrangements(
    dataset: str,
    kind: str,
    class_names: tuple[str, ...] | None = None,
    settings: tuple[str, ...] | None = None,
    max_classes: int | None = None,
) -> list[Arrangement]:
    """All arrangements of a data set: one for a single-class set, per class and setting for a multi-class one.

    ``max_classes`` keeps the first classes only (a quick smoke run); ``settings`` restricts multi-class settings.
    """
    if kind == "single":
        return [Arrangement(dataset, "labels")]
    if kind != "multi":
        raise ValueError(f"unknown data set kind {kind!r}")
    if not class_names:
        raise ValueError(f"{dataset}: a multi-class data set needs class names")
    chosen = settings or ("unimodal", "multimodal")
    bad = [s for s in chosen if s not in ("unimodal", "multimodal")]
    if bad:
        raise ValueError(f"unknown multi-class setting(s) {bad}; choose from unimodal, multimodal")
    n = len(class_names) if max_classes is None else min(max_classes, len(class_names))
    return [Arrangement(dataset, s, c, class_names[c]) for s in chosen for c in range(n)]


@dataclass(frozen=True)
class Split:
    """Row indices into the data set (sorted); y_test is 1 for anomalies."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    y_test: np.ndarray

    def sizes(self) -> dict[str, int]:
        return {
            "train": int(len(self.train)),
            "val": int(len(self.val)),
            "test_normal": int((self.y_test == 0).sum()),
            "test_anomaly": int((self.y_test == 1).sum()),
        }


def split_rng(arr: Arrangement, seed: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(arr.key.encode())])


def make_split(y: np.ndarray, arr: Arrangement, seed: int, val_fraction: float = VAL_FRACTION) -> Split:
    """The split rule of the module docstring."""
    normal = arr.normal_mask(y)
    N, A = np.flatnonzero(normal), np.flatnonzero(~normal)
    n_test = min(len(A), len(N) // 2)
    if n_test < 1:
        raise ValueError(f"{arr.key}: cannot build a 50:50 test set from {len(N)} normals and {len(A)} anomalies")
    rng = split_rng(arr, seed)
    test_a = rng.choice(A, n_test, replace=False)
    test_n = rng.choice(N, n_test, replace=False)
    rest = rng.permutation(np.setdiff1d(N, test_n, assume_unique=True))
    n_val = int(round(val_fraction * len(rest)))
    if n_val < 1 or len(rest) - n_val < 2:
        raise ValueError(f"{arr.key}: {len(rest)} normals left for training and validation is too few")
    test = np.concatenate([test_n, test_a])
    y_test = np.concatenate([np.zeros(n_test, np.int64), np.ones(n_test, np.int64)])
    order = np.argsort(test, kind="stable")
    return Split(train=np.sort(rest[n_val:]), val=np.sort(rest[:n_val]), test=test[order], y_test=y_test[order])
