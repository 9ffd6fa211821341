"""k-nearest-neighbour search in latent space: Annoy for large references, exact for small ones.

Annoy has no batch query, so a batch is one C call per window; those calls release the GIL, so a small thread pool
spreads them over the cores. For small references an exact blocked search (one matrix product per block) is
cheaper than per-window calls; `exact_max` decides, measured by `latentwatch bench scoring`.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from annoy import AnnoyIndex

DEFAULT_EXACT_MAX = 20_000


def exact_knn(Q: np.ndarray, R: np.ndarray, k: int, block: int = 1024, exclude_self: bool = False,
              r_sq: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact euclidean k-NN of each row of Q among the rows of R, nearest first.

    With exclude_self, Q is R itself and each row skips its own index.
    """
    Q = np.ascontiguousarray(Q, dtype=np.float32)
    R = np.ascontiguousarray(R, dtype=np.float32)
    kk = k + 1 if exclude_self else k
    if kk > len(R):
        raise ValueError(f"asked for {k} neighbours but the reference holds {len(R)} items")
    r_sq = (R * R).sum(1) if r_sq is None else r_sq
    idx_out = np.empty((len(Q), k), dtype=np.int64)
    dist_out = np.empty((len(Q), k), dtype=np.float64)
    for s in range(0, len(Q), block):
        q = Q[s:s + block]
        d2 = r_sq[None, :] - 2.0 * (q @ R.T)
        d2 += (q * q).sum(1)[:, None]
        if exclude_self:
            d2[np.arange(len(q)), np.arange(s, s + len(q))] = np.inf
        if k < len(R):
            part = np.argpartition(d2, k - 1, axis=1)[:, :k]
        else:
            part = np.argsort(d2, axis=1)[:, :k]
        pd = np.take_along_axis(d2, part, axis=1)
        order = np.argsort(pd, axis=1, kind="stable")
        idx_out[s:s + len(q)] = np.take_along_axis(part, order, axis=1)
        dist_out[s:s + len(q)] = np.sqrt(np.maximum(np.take_along_axis(pd, order, axis=1), 0.0))
    return idx_out, dist_out


class NeighbourIndex:
    """Latent codes of the reference plus the structure that searches them."""

    def __init__(self, latents: np.ndarray, annoy: AnnoyIndex | None, search_k: int = -1,
                 exact_max: int = DEFAULT_EXACT_MAX, threads: int | None = None) -> None:
        self.latents = np.ascontiguousarray(latents, dtype=np.float32)
        self.annoy = annoy
        self.search_k = int(search_k)
        self.exact_max = int(exact_max)
        self.threads = threads or min(2, os.cpu_count() or 1)
        self._r_sq = (self.latents * self.latents).sum(1)
        self._pool: ThreadPoolExecutor | None = None

    @property
    def size(self) -> int:
        return int(self.latents.shape[0])

    @property
    def method(self) -> str:
        return "exact" if self.annoy is None or self.size <= self.exact_max else "annoy"

    @staticmethod
    def build_annoy(latents: np.ndarray, n_trees: int, seed: int) -> AnnoyIndex:
        index = AnnoyIndex(latents.shape[1], "euclidean")
        index.set_seed(seed)
        for i, v in enumerate(np.asarray(latents, dtype=np.float32)):
            index.add_item(i, v)
        index.build(n_trees, n_jobs=1)
        return index

    @staticmethod
    def load_annoy(path: Path, dim: int) -> AnnoyIndex:
        index = AnnoyIndex(dim, "euclidean")
        if not index.load(str(path), prefault=False):
            raise ValueError(f"annoy index {path} could not be loaded")
        return index

    def _annoy_rows(self, Q: np.ndarray, k: int, idx: np.ndarray, dist: np.ndarray, lo: int, hi: int) -> None:
        get = self.annoy.get_nns_by_vector
        sk = self.search_k
        for i in range(lo, hi):
            ids, ds = get(Q[i], k, sk, True)
            if len(ids) < k:
                raise RuntimeError(f"annoy returned {len(ids)} < {k} neighbours; raise n_trees or search_k")
            idx[i] = ids
            dist[i] = ds

    def query(self, Q: np.ndarray, k: int, method: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        method = method or self.method
        if method == "exact" or self.annoy is None:
            return exact_knn(Q, self.latents, k, r_sq=self._r_sq)
        Q = np.ascontiguousarray(Q, dtype=np.float32)
        idx = np.empty((len(Q), k), dtype=np.int64)
        dist = np.empty((len(Q), k), dtype=np.float64)
        if self.threads <= 1 or len(Q) < 64:
            self._annoy_rows(Q, k, idx, dist, 0, len(Q))
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="annoy")
            step = -(-len(Q) // self.threads)
            futs = [self._pool.submit(self._annoy_rows, Q, k, idx, dist, s, min(s + step, len(Q)))
                    for s in range(0, len(Q), step)]
            for f in futs:
                f.result()
        return idx, dist
