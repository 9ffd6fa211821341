"""The reference: normal windows' latent codes and the per-item statistics the scorers need.

Duplicate policy. Reference sets hold many identical windows (in EOPT about three rows in four repeat: drives at
rest). Identical latents make k-distances zero and LOF's local reachability density infinite. Two guards:

- every reachability distance has a floor (`dist_floor`, a small fraction of the median positive k-distance), so
  duplicates give a large but finite density; always on;
- `dedup=True` (default): identical scaled input rows are collapsed into one item that keeps a count (a smaller
  index). The k-NN and LOF statistics ignore the count, so a value's multiplicity is lost.
  `dedup=False`: one item per window (counts all 1); the statistics see every copy. On EOPT the multiplicity is the
  signal (a normal rest state recurs in every storage cycle, a faulty run's rarely): ARES 61 collapsed vs 65 with
  every window (seed 0, docs/evaluation.md), at the price of an index as large as the training set.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.model.frozen import FrozenModel
from pipelines.reference.search import DEFAULT_EXACT_MAX, NeighbourIndex, exact_knn

EXACT_BUILD_MAX = 60_000


@dataclass
class Reference:
    index: NeighbourIndex
    err: np.ndarray  # float64 [n] squared reconstruction error of each item
    kdist: np.ndarray  # float64 [n] distance to the k-th neighbour inside the reference
    lrd: np.ndarray  # float64 [n] local reachability density
    counts: np.ndarray  # int64 [n] windows collapsed into each item
    window_ids: np.ndarray  # int64 [n] id of the first window behind each item
    k: int
    dist_floor: float

    @property
    def size(self) -> int:
        return self.index.size

    @property
    def latents(self) -> np.ndarray:
        return self.index.latents

    def reach(self, nbr_idx: np.ndarray, nbr_dist: np.ndarray) -> np.ndarray:
        """Reachability distances of queries to their neighbours [B, k]."""
        return np.maximum(np.maximum(self.kdist[nbr_idx], nbr_dist), self.dist_floor)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"latents": self.index.latents, "err": self.err, "kdist": self.kdist, "lrd": self.lrd,
                "counts": self.counts, "window_ids": self.window_ids,
                "k": np.array([self.k]), "dist_floor": np.array([self.dist_floor])}


def dedup_rows(Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(unique rows in first-seen order, index of first occurrence, counts)."""
    _, first, inverse, counts = np.unique(Xs, axis=0, return_index=True, return_inverse=True, return_counts=True)
    order = np.argsort(first, kind="stable")
    return Xs[first[order]], first[order], counts[order]


def self_knn(latents: np.ndarray, k: int, index: NeighbourIndex) -> tuple[np.ndarray, np.ndarray]:
    """k nearest other items of every reference item."""
    if len(latents) <= EXACT_BUILD_MAX or index.annoy is None:
        return exact_knn(latents, latents, k, exclude_self=True)
    idx, dist = index.query(latents, k + 1, method="annoy")
    own = idx == np.arange(len(latents))[:, None]
    keep = ~own
    keep[~own.any(axis=1), k] = False
    return idx[keep].reshape(len(latents), k), dist[keep].reshape(len(latents), k)


def build_reference(model: FrozenModel, Xs: np.ndarray, k: int = 10, n_trees: int = 50, seed: int = 0,
                    window_ids: np.ndarray | None = None, exact_max: int = DEFAULT_EXACT_MAX,
                    search_k: int = -1, floor_frac: float = 1e-3, dedup: bool = True) -> Reference:
    """Build from scaled normal windows Xs [n, d] (the model's scaler already applied).

    dedup: collapse identical rows into one item with a count (see the module docstring), else one item per row.
    """
    Xs = np.asarray(Xs, dtype=np.float32)
    if dedup:
        Xu, first, counts = dedup_rows(Xs)
    else:
        Xu, first, counts = Xs, np.arange(len(Xs)), np.ones(len(Xs), dtype=np.int64)
    if len(Xu) <= k:
        raise ValueError(f"reference needs more than k={k} {'distinct ' if dedup else ''}windows, got {len(Xu)}")
    ids = (np.arange(len(Xs)) if window_ids is None else np.asarray(window_ids))[first].astype(np.int64)
    zs, errs = [], []
    for s in range(0, len(Xu), 65536):
        z, _, e = model.encode_scaled(Xu[s:s + 65536])
        zs.append(z)
        errs.append(e)
    latents = np.concatenate(zs)
    annoy = NeighbourIndex.build_annoy(latents, n_trees, seed)
    index = NeighbourIndex(latents, annoy, search_k=search_k, exact_max=exact_max)
    nbr, dist = self_knn(latents, k, index)
    kdist = dist[:, -1].astype(np.float64)
    positive = kdist[kdist > 0]
    floor = float(floor_frac * np.median(positive)) if len(positive) else 1e-12
    floor = max(floor, 1e-12)
    reach = np.maximum(np.maximum(kdist[nbr], dist), floor)
    lrd = 1.0 / reach.mean(axis=1)
    return Reference(index=index, err=np.concatenate(errs), kdist=kdist, lrd=lrd, counts=counts.astype(np.int64),
                     window_ids=ids, k=k, dist_floor=floor)
