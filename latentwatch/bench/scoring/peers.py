"""The peers ARES is timed against: the raw Annoy loop, the neighbour searches alone, PyOD's KNN and IsolationForest."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from latentwatch.bench.scoring.config import BenchConfig

PEER_K = 10  # the peers' k: ARES's default


def brute_knn(Q: np.ndarray, R, k: int, r_sq=None, block: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """The matrix-product exact search (the alternative to the k-d tree): d2 = |r|^2 - 2 q.r (+ |q|^2 after top-k),
    blocked, `torch.topk`. R and r_sq are torch tensors (prepared once per reference)."""
    import torch

    q_all = torch.from_numpy(np.ascontiguousarray(Q, dtype=np.float32))
    idx_out, d_out = [], []
    for s in range(0, len(q_all), block):
        q = q_all[s : s + block]
        d2 = torch.addmm(r_sq[None, :], q, R.T, alpha=-2.0)
        v, i = torch.topk(d2, k, dim=1, largest=False, sorted=True)
        idx_out.append(i)
        d_out.append((v + (q * q).sum(1, keepdim=True)).clamp_min_(0).sqrt_())
    return torch.cat(idx_out).numpy(), torch.cat(d_out).numpy().astype(np.float64)


def fit_pyod_knn(X: np.ndarray, k: int, n_jobs: int):
    """PyOD KNN fitted as PyOD does it, except the self-scoring pass over the training set (why:
    latentwatch/bench/scoring/__init__.py)."""
    from pyod.models.knn import KNN

    det = KNN(n_neighbors=k, n_jobs=n_jobs)
    det.neigh_.fit(X)
    det.tree_ = det.neigh_._tree if getattr(det.neigh_, "_tree", None) is not None else det.neigh_
    det.decision_scores_ = np.zeros(1)
    det.threshold_ = 0.0
    det.labels_ = np.zeros(1, dtype=int)
    det._set_n_classes(None)
    return det


def fit_pyod_iforest(X: np.ndarray, n_jobs: int, seed: int):
    from pyod.models.iforest import IForest

    return IForest(n_jobs=n_jobs, random_state=seed).fit(X)


def recall_at_k(approx: np.ndarray, exact: np.ndarray) -> float:
    """Mean fraction of each row's exact k neighbours found by the approximate search."""
    k = exact.shape[1]
    hits = sum(len(set(a) & set(e)) for a, e in zip(approx.tolist(), exact.tolist(), strict=True))
    return hits / (k * len(exact))


def peer_runners(
    cfg: BenchConfig,
    size: int,
    ref,
    index_all,
    model,
    Xs_ref: np.ndarray,
    Xq: list[np.ndarray],
    Zq: list[np.ndarray],
    notes: list[str],
) -> dict[str, Callable[[int], Any]]:
    """One callable per peer of cfg.peers that runs batch b (Xq[b] windows, Zq[b] their latent codes) on the
    reference ``ref`` (``index_all``: the same latents searched exactly everywhere). A peer that cannot run here
    is left out with a note saying why."""
    import torch

    runners: dict[str, Callable[[int], Any]] = {}
    for name in cfg.peers:
        if name == "annoy-loop":
            if ref.index.annoy is None:
                continue
            get, sk = ref.index.annoy.get_nns_by_vector, cfg.search_k

            def annoy_loop(b: int, get=get, sk=sk) -> None:
                for z in Zq[b]:
                    get(z, PEER_K, sk, True)

            runners[name] = annoy_loop
        elif name == "search:exact":
            runners[name] = lambda b: ref.index.query(Zq[b], PEER_K, method="exact")
        elif name == "search:exact-all":
            runners[name] = lambda b, ix=index_all: ix.query(Zq[b], PEER_K, method="exact")
        elif name == "search:annoy":
            if ref.index.annoy is None:
                continue
            runners[name] = lambda b: ref.index.query(Zq[b], PEER_K, method="annoy")
        elif name == "search:brute":
            if size > cfg.brute_max:
                notes.append(f"search:brute skipped above --brute-max {cfg.brute_max:,}")
                continue
            R_t = torch.from_numpy(ref.latents)
            r_sq = (R_t * R_t).sum(1)
            runners[name] = lambda b, R_t=R_t, r_sq=r_sq: brute_knn(Zq[b], R_t, PEER_K, r_sq)
        elif name in ("pyod-knn", "pyod-iforest"):
            try:
                import pyod  # noqa: F401
            except ImportError:
                notes.append(f"{name} skipped: PyOD is not installed (pip install 'latentwatch[bench]')")
                continue
            if cfg.pyod_space == "input":
                fit_rows, q_rows = Xs_ref, [model.scaler.transform(X) for X in Xq]
            else:
                fit_rows, q_rows = ref.latents, Zq
            t1 = time.perf_counter()
            det = (
                fit_pyod_knn(fit_rows, PEER_K, cfg.threads)
                if name == "pyod-knn"
                else fit_pyod_iforest(fit_rows, cfg.threads, cfg.seed)
            )
            notes.append(f"{name} fitted on {len(fit_rows):,} {cfg.pyod_space} rows in {time.perf_counter() - t1:.1f}s")
            runners[name] = lambda b, det=det, q_rows=q_rows: det.decision_function(q_rows[b])
    return runners
