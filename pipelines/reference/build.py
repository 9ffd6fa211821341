"""The reference: normal windows' latent codes and the per-item statistics the scorers need.

Duplicate policy. Reference sets hold many identical windows (in EOPT about three rows in four repeat: drives at
rest). Identical latents make k-distances zero and LOF's local reachability density infinite. Two guards:

- every reachability distance has a floor (`dist_floor`, a small fraction of the median positive k-distance over
  the windows), so duplicates give a large but finite density; always on;
- `dedup=True` (default): identical scaled input rows are collapsed into one item that keeps its count, and every
  neighbourhood counts windows, not items (`Reference.neighbours`, `expand_by_counts`): the k nearest windows of a
  query are the nearest items, each repeated as often as it occurred, cut at k. So k-distance, lrd, LOF, the
  neighbours' median error and the k-th neighbour distance are those of the reference that keeps every window, with
  an index as small as the distinct windows. On EOPT the multiplicity is the signal (a normal rest state recurs in
  every storage cycle, a faulty run's rarely): ignoring the counts cost ARES 61 vs 65 (seed 0, docs/evaluation.md).
  `dedup=False`: one item per window (counts all 1), the same scores with a larger index.

Artifacts built before the counts were honoured (no `weighted` array) keep their old semantics: counts stored but
ignored, so they score exactly as they did.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipelines.model.frozen import FrozenModel
from pipelines.reference.search import DEFAULT_EXACT_MAX, NeighbourIndex, exact_knn

EXACT_BUILD_MAX = 60_000
DEDUP_CHUNK = 65_536  # sorted rows compared at once by dedup_rows
SELF_KNN_CHUNK = 16_384  # reference items queried at once when the Annoy index finds their own neighbours


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
    weighted: bool = False  # neighbourhoods count windows (each item `counts` times); False only in old artifacts
    group_err: np.ndarray | None = None  # float32 [n, G] squared error per explanation group (None: old artifacts)
    err_groups: np.ndarray | None = None  # int64 [d] the group (column of group_err) of each input feature
    # (groups, float32 [n, 2G]): each item's repair gains, then spreads, made by pipelines.explain on first use
    explain_gain: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._expand = bool(self.weighted and len(self.counts) and int(self.counts.max()) > 1)

    @property
    def size(self) -> int:
        return self.index.size

    @property
    def latents(self) -> np.ndarray:
        return self.index.latents

    def reach(self, nbr_idx: np.ndarray, nbr_dist: np.ndarray) -> np.ndarray:
        """Reachability distances of queries to their neighbours [B, k]."""
        out: np.ndarray = np.maximum(np.maximum(self.kdist[nbr_idx], nbr_dist), self.dist_floor)
        return out

    def neighbours(self, z: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest reference windows of each latent row: (item index int64 [B, k], distance [B, k]).

        An item standing for several identical windows fills as many places as it has copies (up to k)."""
        idx, dist = self.index.query(z, k)
        if not self._expand:
            return idx, dist
        return expand_by_counts(idx, dist, self.counts[idx], k)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {
            "latents": self.index.latents,
            "err": self.err,
            "kdist": self.kdist,
            "lrd": self.lrd,
            "counts": self.counts,
            "window_ids": self.window_ids,
            "k": np.array([self.k]),
            "dist_floor": np.array([self.dist_floor]),
            "weighted": np.array([int(self.weighted)]),
        }
        if self.group_err is not None:
            if self.err_groups is None:
                raise ValueError("reference has group_err but no err_groups (the feature -> group map)")
            out.update(group_err=self.group_err, err_groups=self.err_groups)
        return out


def expand_by_counts(idx: np.ndarray, dist: np.ndarray, counts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The first k windows of neighbour lists of items: item j of a row repeated counts[row, j] times (0 skips it).

    idx, dist [B, m] nearest first; counts [B, m] >= 0 with every row summing to at least k."""
    counts = np.asarray(counts, dtype=np.int64)
    cum = np.cumsum(counts, axis=1)
    B, m = idx.shape
    if B == 0:
        return idx[:, :0].reshape(0, k), dist[:, :0].reshape(0, k)
    if int(cum[:, -1].min()) < k:
        raise ValueError(f"neighbour lists hold fewer than k={k} windows")
    # column of place p in row b: the first j with cum[b, j] > p; one searchsorted over all rows, each row's
    # cumulative counts shifted past the previous row's
    span = int(cum[:, -1].max()) + 1
    shift = np.arange(B, dtype=np.int64)[:, None] * span
    flat = np.searchsorted((cum + shift).ravel(), (np.arange(k, dtype=np.int64)[None, :] + shift).ravel(), side="right")
    col = flat.reshape(B, k) - np.arange(B, dtype=np.int64)[:, None] * m
    return np.take_along_axis(idx, col, axis=1), np.take_along_axis(dist, col, axis=1)


def dedup_rows(Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(unique rows in first-seen order, index of first occurrence, counts); Xs itself when no row repeats.

    Rows are equal when their values are (``np.unique(axis=0)``'s grouping, so -0.0 equals 0.0): each row is
    compared as one opaque block of bytes, sorted by a stable argsort (the first of equal rows comes first), with
    no copy of all the rows besides the sorted blocks' chunks."""
    Xs = np.ascontiguousarray(Xs)
    n = len(Xs)
    if n == 0 or Xs.shape[1] == 0:
        return Xs[:1], np.arange(min(n, 1)), np.full(min(n, 1), n, dtype=np.int64)
    keyed = Xs + 0.0 if bool(((Xs == 0) & np.signbit(Xs)).any()) else Xs  # -0.0 + 0.0 is 0.0
    rows = keyed.view(np.dtype((np.void, keyed.dtype.itemsize * keyed.shape[1]))).ravel()
    perm = np.argsort(rows, kind="stable")
    new = np.ones(n, dtype=bool)  # sorted row i differs from sorted row i - 1
    for s in range(1, n, DEDUP_CHUNK):
        block = rows[perm[s - 1 : s + DEDUP_CHUNK]]
        new[s : s + len(block) - 1] = block[1:] != block[:-1]
    starts = np.flatnonzero(new)
    first = perm[starts]
    counts = np.diff(np.append(starts, n)).astype(np.int64)
    order = np.argsort(first, kind="stable")
    first, counts = first[order], counts[order]
    return (Xs if len(first) == n else Xs[first]), first, counts


def self_knn(latents: np.ndarray, k: int, index: NeighbourIndex) -> tuple[np.ndarray, np.ndarray]:
    """k nearest other items of every reference item."""
    if len(latents) <= EXACT_BUILD_MAX or index.annoy is None:
        return exact_knn(latents, latents, k, exclude_self=True)
    # in chunks, into arrays made once: a query's results pass through Python lists (~1 kB a row), which for all
    # of a 1M-window reference at once held about 1 GB, and chunks' results concatenated would be a second and
    # third copy of all of them; the rows are independent, so the result is the same
    n = len(latents)
    out_idx, out_dist = np.empty((n, k), dtype=np.int64), np.empty((n, k), dtype=np.float64)
    for s in range(0, n, SELF_KNN_CHUNK):
        idx, dist = index.query(latents[s : s + SELF_KNN_CHUNK], k + 1, method="annoy")
        own = idx == np.arange(s, s + len(idx))[:, None]
        keep = ~own
        keep[~own.any(axis=1), k] = False
        out_idx[s : s + len(idx)] = idx[keep].reshape(len(idx), k)
        out_dist[s : s + len(idx)] = dist[keep].reshape(len(idx), k)
    return out_idx, out_dist


def build_reference(
    model: FrozenModel,
    Xs: np.ndarray,
    k: int = 10,
    n_trees: int = 50,
    seed: int = 0,
    window_ids: np.ndarray | None = None,
    exact_max: int = DEFAULT_EXACT_MAX,
    search_k: int = -1,
    floor_frac: float = 1e-3,
    dedup: bool = True,
    groups: np.ndarray | None = None,
) -> Reference:
    """Build from scaled normal windows Xs [n, d] (the model's scaler already applied).

    dedup: collapse identical rows into one item with a count (see the module docstring), else one item per row.
    groups: int [d], the explanation group (a sensor channel) of each feature; each item keeps its squared
    reconstruction error summed per group (`group_err`, what alerts compare a window's error with); None: one group
    per feature.
    """
    Xs = np.asarray(Xs, dtype=np.float32)
    if dedup:
        Xu, first, counts = dedup_rows(Xs)
    else:
        Xu, first, counts = Xs, np.arange(len(Xs)), np.ones(len(Xs), dtype=np.int64)
    if len(Xu) <= k:
        raise ValueError(f"reference needs more than k={k} {'distinct ' if dedup else ''}windows, got {len(Xu)}")
    ids = (np.arange(len(Xs)) if window_ids is None else np.asarray(window_ids))[first].astype(np.int64)
    groups = np.arange(Xs.shape[1], dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
    if groups.shape != (Xs.shape[1],) or (len(groups) and groups.min() < 0):
        raise ValueError(f"groups must be {Xs.shape[1]} non-negative group numbers, got shape {groups.shape}")
    zs, errs, gerrs = [], [], []
    for s in range(0, len(Xu), 65536):
        z, xhat, e = model.encode_scaled(Xu[s : s + 65536])
        zs.append(z)
        errs.append(e)
        gerrs.append(group_sums((xhat - Xu[s : s + 65536]) ** 2, groups))
    latents = np.concatenate(zs)
    del Xs, Xu, zs  # the scaled windows (the caller's temporary, a million of them in a refresh): no longer needed
    annoy = NeighbourIndex.build_annoy(latents, n_trees, seed) if n_trees > 0 else None  # 0: exact search only
    index = NeighbourIndex(latents, annoy, search_k=search_k, exact_max=exact_max)
    nbr, dist = self_knn(latents, k, index)
    if counts.max() > 1:  # each item's own other copies are its nearest windows, at distance 0
        n = len(latents)
        nbr, dist = expand_by_counts(
            np.c_[np.arange(n), nbr], np.c_[np.zeros(n), dist], np.c_[counts - 1, counts[nbr]], k
        )
    kdist = dist[:, -1].astype(np.float64)
    positive = np.repeat(kdist, counts)
    positive = positive[positive > 0]
    floor = float(floor_frac * np.median(positive)) if len(positive) else 1e-12
    floor = max(floor, 1e-12)
    reach = kdist[nbr]  # max(kdist[nbr], dist, floor), in place: three fewer n x k arrays at once
    np.maximum(reach, dist, out=reach)
    np.maximum(reach, floor, out=reach)
    lrd = 1.0 / reach.mean(axis=1)
    del reach
    return Reference(
        index=index,
        err=np.concatenate(errs),
        kdist=kdist,
        lrd=lrd,
        counts=counts.astype(np.int64),
        window_ids=ids,
        k=k,
        dist_floor=floor,
        weighted=True,
        group_err=np.concatenate(gerrs),
        err_groups=groups,
    )


def group_sums(E: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """float32 [n, G]: the columns of E [n, d] summed per group (groups int [d], G = groups.max() + 1)."""
    onehot = np.zeros((len(groups), int(groups.max()) + 1 if len(groups) else 0), dtype=np.float32)
    onehot[np.arange(len(groups)), groups] = 1.0
    return np.asarray(E, dtype=np.float32) @ onehot
