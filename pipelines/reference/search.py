"""k-nearest-neighbour search in latent space: an exact k-d tree up to `exact_max` items, Annoy above.

Measured by `latentwatch bench scoring` (docs/benchmarks.md). In the default model's 8-wide latent space an exact
batched k-d tree query (scipy's cKDTree: one C call per batch, the GIL released, `workers` threads) ran at 3.4-3.9x
the threaded Annoy query (10 trees, search_k 200, recall@10 0.997-0.999) at 20k, 100k and 1M items, and at 8x
(20k) to 40x (100k) the blocked matrix product + top-k, whose cost grows with B x n per batch while the tree's grows
with log n. So `DEFAULT_EXACT_MAX` is the largest size measured; above it Annoy is still used, unmeasured. A k-d
tree slows down as the latent gets wider: rerun the benchmark (`--latent`) before relying on it above ~16 dims.

Semantics (both methods): neighbours nearest first, euclidean distances. Exact distances are computed in float64
from the float32 latents; Annoy's are its own float32 values. In the exact results neighbours at equal distance
come in reference-index order; which of several items tied at the k-th distance is returned is unspecified.
`exact_knn` is exact for every query. `NeighbourIndex`'s "exact" method is exact for every query that has k
neighbours within its far radius, and (1 + far_eps)-approximate for the outliers beyond it, whose exact search
costs 10-20x more (see NeighbourIndex; far_eps=0 makes it exact everywhere).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from annoy import AnnoyIndex
from scipy.spatial import cKDTree

DEFAULT_EXACT_MAX = 1_000_000
DEFAULT_FAR_EPS = 0.25
FAR_FACTOR = 2.0  # far radius = FAR_FACTOR x the 99th percentile of the reference's own k-distance
FAR_SAMPLE = 2000  # reference items sampled (seeded) to estimate that percentile
KD_LEAFSIZE = 16
ANNOY_ADD_CHUNK = 65_536  # latents turned into Python lists at once while Annoy's items are added
_MIN_PARALLEL_ROWS = 64  # below this a batch is not worth a second thread


def kd_tree(R: np.ndarray) -> cKDTree:
    """The exact search structure over reference rows R [n, l] (a float64 copy of R plus the tree)."""
    R = np.asarray(R)
    if R.ndim != 2 or len(R) == 0:
        raise ValueError(f"reference must be a non-empty 2-d array, got shape {R.shape}")
    return cKDTree(np.ascontiguousarray(R, dtype=np.float64), leafsize=KD_LEAFSIZE, balanced_tree=False)


def _ties_by_index(idx: np.ndarray, dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Within each row, order neighbours at equal distance by reference index (deterministic output)."""
    if idx.shape[1] < 2:
        return idx, dist
    rows = np.flatnonzero((np.diff(dist, axis=1) == 0).any(axis=1))
    if len(rows):
        order = np.lexsort((idx[rows], dist[rows]))
        idx[rows] = np.take_along_axis(idx[rows], order, axis=1)
        dist[rows] = np.take_along_axis(dist[rows], order, axis=1)
    return idx, dist


def exact_knn(
    Q: np.ndarray, R: np.ndarray, k: int, exclude_self: bool = False, *, tree: cKDTree | None = None, workers: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Exact euclidean k-NN of each row of Q among the rows of R: (index int64 [B, k], distance float64 [B, k]).

    Nearest first. With exclude_self, Q is R itself and row i skips item i (if item i ties at distance 0 with
    other items, k of those are returned). `tree` is a prebuilt `kd_tree(R)`; `workers` threads share the batch.
    """
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    Q = np.asarray(Q)
    n = len(R) if tree is None else int(tree.n)
    kk = k + 1 if exclude_self else k
    if kk > n:
        raise ValueError(
            f"asked for {k} neighbours{' besides itself' if exclude_self else ''} but the reference holds {n} items"
        )
    if Q.ndim != 2:
        raise ValueError(f"queries must be a 2-d array [B, l], got shape {Q.shape}")
    tree = kd_tree(R) if tree is None else tree
    if Q.shape[1] != tree.m:
        raise ValueError(f"queries have {Q.shape[1]} dimensions, the reference {tree.m}")
    if exclude_self and len(Q) != n:
        raise ValueError(f"exclude_self needs Q to be the reference itself ({n} rows), got {len(Q)} rows")
    if len(Q) == 0:
        return np.empty((0, k), dtype=np.int64), np.empty((0, k), dtype=np.float64)
    Q64 = np.ascontiguousarray(Q, dtype=np.float64)
    dist, idx = tree.query(Q64, k=kk, workers=workers if len(Q) >= _MIN_PARALLEL_ROWS else 1)
    dist = np.asarray(dist, dtype=np.float64).reshape(len(Q), kk)
    idx = np.asarray(idx, dtype=np.int64).reshape(len(Q), kk)
    if exclude_self:
        own = idx == np.arange(len(Q))[:, None]
        keep = ~own
        keep[~own.any(axis=1), kk - 1] = False  # self tied out of the list: drop the farthest instead
        idx, dist = idx[keep].reshape(len(Q), k), dist[keep].reshape(len(Q), k)
    return _ties_by_index(idx, dist)


class NeighbourIndex:
    """Latent codes of the reference plus the structures that search them.

    The k-d tree is built when the index is created if `method` is "exact" (so no batch pays for it), else on the
    first exact query. Annoy queries run in a pool of `threads` threads (Annoy releases the GIL in its C search).

    Far queries. An exact k-d tree search for a point far from all reference data visits most of the tree: on
    windows outside the data's range it was measured 10-20x slower than on normal ones, so a burst of anomalous
    traffic would make the daemon fall behind exactly when it matters. So the "exact" method first searches
    within the far radius (FAR_FACTOR x the 99th percentile of the reference's own k-distance, from a seeded
    sample of FAR_SAMPLE items): every query with k neighbours inside it gets its exact answer. The rest, outliers
    by any density measure, get (1 + far_eps)-approximate neighbours from the same tree (the k-th returned distance
    at most (1 + far_eps) x the true k-th). Measured (docs/benchmarks.md): with 0.25 the far path's recall@10 is
    0.99+ and it changed no ARES score on the EOPT benchmark, while 0.5 is faster on far queries but changed a few
    scores by up to 25%. `far_eps=0` makes every
    answer exact. `last_far` (a diagnostic, not thread-safe) counts the queries of the last exact call that took
    the far path. The radius for a k is estimated on the first query with that k (~2,000 tree queries), cached.
    """

    def __init__(
        self,
        latents: np.ndarray,
        annoy: AnnoyIndex | None,
        search_k: int = -1,
        exact_max: int = DEFAULT_EXACT_MAX,
        threads: int | None = None,
        far_eps: float = DEFAULT_FAR_EPS,
    ) -> None:
        self.latents = np.ascontiguousarray(latents, dtype=np.float32)
        if self.latents.ndim != 2 or len(self.latents) == 0:
            raise ValueError(f"latents must be a non-empty 2-d array, got shape {self.latents.shape}")
        self.annoy = annoy
        self.search_k = int(search_k)
        self.exact_max = int(exact_max)
        self.threads = max(1, int(threads or min(2, os.cpu_count() or 1)))
        self._far_radius: dict[int, float] = {}
        self.far_eps = far_eps
        self.last_far = 0
        self._tree: cKDTree | None = kd_tree(self.latents) if self.method == "exact" else None
        self._pool: ThreadPoolExecutor | None = None

    @property
    def size(self) -> int:
        return int(self.latents.shape[0])

    @property
    def dim(self) -> int:
        return int(self.latents.shape[1])

    @property
    def method(self) -> str:
        return "exact" if self.annoy is None or self.size <= self.exact_max else "annoy"

    @property
    def far_eps(self) -> float:
        return self._far_eps

    @far_eps.setter
    def far_eps(self, value: float) -> None:
        if float(value) < 0:
            raise ValueError(f"far_eps must be >= 0, got {value}")
        self._far_eps = float(value)
        self._far_radius.clear()

    @property
    def tree(self) -> cKDTree:
        if self._tree is None:
            self._tree = kd_tree(self.latents)
        return self._tree

    def far_radius(self, k: int) -> float:
        """Beyond this distance a query's k-th neighbour makes it a far query (inf: none is; cached per k)."""
        if k not in self._far_radius:
            n = self.size
            if self.far_eps == 0 or k + 1 > n:
                self._far_radius[k] = float("inf")
            else:
                m = min(n, FAR_SAMPLE)
                sample = np.sort(np.random.default_rng(0).choice(n, m, replace=False))
                d, _ = self.tree.query(self.latents[sample].astype(np.float64), k=k + 1, workers=self.threads)
                kdist = np.asarray(d).reshape(m, k + 1)[:, -1]  # the sample's own k-distance (self is 1st)
                r = FAR_FACTOR * float(np.quantile(kdist, 0.99))
                self._far_radius[k] = r if r > 0 else float("inf")
        return self._far_radius[k]

    def _exact_query(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        radius = self.far_radius(k)
        if not np.isfinite(radius) or len(Q) == 0:
            self.last_far = 0
            return exact_knn(Q, self.latents, k, tree=self.tree, workers=self.threads)
        Q64 = np.ascontiguousarray(Q, dtype=np.float64)
        workers = self.threads if len(Q) >= _MIN_PARALLEL_ROWS else 1
        dist, idx = self.tree.query(Q64, k=k, distance_upper_bound=radius, workers=workers)
        dist = np.asarray(dist, dtype=np.float64).reshape(len(Q), k)
        idx = np.asarray(idx, dtype=np.int64).reshape(len(Q), k)
        far = np.flatnonzero(~np.isfinite(dist[:, -1]))
        self.last_far = int(len(far))
        if len(far):
            fd, fi = self.tree.query(
                Q64[far], k=k, eps=self.far_eps, workers=self.threads if len(far) >= _MIN_PARALLEL_ROWS else 1
            )
            dist[far] = np.asarray(fd).reshape(len(far), k)
            idx[far] = np.asarray(fi).reshape(len(far), k)
        return _ties_by_index(idx, dist)

    @staticmethod
    def build_annoy(latents: np.ndarray, n_trees: int, seed: int) -> AnnoyIndex:
        latents = np.asarray(latents, dtype=np.float32)
        index = AnnoyIndex(latents.shape[1], "euclidean")
        index.set_seed(seed)
        for s in range(0, len(latents), ANNOY_ADD_CHUNK):  # Python floats a chunk at a time, not all the rows'
            for i, v in enumerate(latents[s : s + ANNOY_ADD_CHUNK].tolist(), start=s):
                index.add_item(i, v)
        index.build(n_trees, n_jobs=1)
        return index

    @staticmethod
    def load_annoy(path: Path, dim: int) -> AnnoyIndex:
        index = AnnoyIndex(dim, "euclidean")
        if not index.load(str(path), prefault=False):
            raise ValueError(f"annoy index {path} could not be loaded")
        return index

    def _annoy_rows(self, rows: list[list[float]], k: int) -> tuple[list[list[int]], list[list[float]]]:
        """One thread's share: a plain loop of C calls (each releases the GIL), results kept as lists."""
        if self.annoy is None:
            raise RuntimeError("annoy search asked of a neighbour index built without an annoy index")
        get, sk = self.annoy.get_nns_by_vector, self.search_k
        ids_out, dist_out = [], []
        for q in rows:
            ids, ds = get(q, k, sk, True)
            if len(ids) < k:
                raise RuntimeError(f"annoy returned {len(ids)} < {k} neighbours; raise n_trees or search_k")
            ids_out.append(ids)
            dist_out.append(ds)
        return ids_out, dist_out

    def _annoy_query(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(Q, dtype=np.float32).tolist()  # python floats: the cheapest input for annoy's parser
        if self.threads <= 1 or len(rows) < _MIN_PARALLEL_ROWS:
            parts = [self._annoy_rows(rows, k)]
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="annoy")
            step = -(-len(rows) // self.threads)
            futs = [self._pool.submit(self._annoy_rows, rows[s : s + step], k) for s in range(0, len(rows), step)]
            parts = [f.result() for f in futs]
        idx = np.array([r for p in parts for r in p[0]], dtype=np.int64).reshape(len(rows), k)
        dist = np.array([r for p in parts for r in p[1]], dtype=np.float64).reshape(len(rows), k)
        return idx, dist

    def query(self, Q: np.ndarray, k: int, method: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """k nearest reference items of each query row: (index int64 [B, k], distance float64 [B, k])."""
        method = method or self.method
        if method not in ("exact", "annoy"):
            raise ValueError(f"unknown search method {method!r}; choose 'exact' or 'annoy'")
        Q = np.asarray(Q)
        if Q.ndim != 2 or Q.shape[1] != self.dim:
            raise ValueError(f"queries must be [B, {self.dim}], got shape {Q.shape}")
        k = int(k)
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if k > self.size:
            raise ValueError(f"asked for {k} neighbours but the reference holds {self.size} items")
        if method == "exact" or self.annoy is None:
            return self._exact_query(Q, k)
        return self._annoy_query(Q, k)

    def close(self) -> None:
        """Stop the Annoy thread pool (an index being replaced; the daemon's hot swap)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
