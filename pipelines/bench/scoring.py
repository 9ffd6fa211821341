"""`latentwatch bench scoring`: windows/s of every scorer next to the raw Annoy loop and PyOD, as ratios in one run.

What is timed. A scorer's number is the daemon's whole scoring path, `OnlineModel.score` on a micro-batch (scale,
encode, neighbour search, score parts, packaging). Its peers score the same query rows in the same run:

* ``annoy-loop``: the plain baseline, a Python loop of ``get_nns_by_vector(z, 10, search_k, True)`` over the batch's
  latent codes (already encoded: encoding is not charged to it), one thread, on the reference's own Annoy index.
* ``pyod-knn`` / ``pyod-iforest``: PyOD's KNN (k=10, largest) and IsolationForest (100 trees) fitted on the same
  reference windows and scoring the same query windows (``decision_function`` per batch), in the model's scaled
  input space (``--pyod-space latent``: on the latent codes instead). Both get ``n_jobs = --threads``. KNN is fitted
  without scoring its own training set (PyOD's fit does that only to set a contamination threshold, which
  ``decision_function`` never reads; at 1M windows it would take hours): same tree, same decision scores.
* ``search:*``: the neighbour search alone on the latent codes (k=10). ``exact``: the index's k-d tree search
  (exact within the far radius, (1+far_eps)-approximate beyond it); ``exact-all``: the same tree with
  ``far_eps=0``, exact for every query; ``annoy``: the threaded Annoy query; ``brute``: a blocked matrix product +
  ``torch.topk`` (only up to ``--brute-max``). These set ``DEFAULT_EXACT_MAX`` in ``pipelines/reference/search.py``.

The machine is shared, so absolute numbers move between runs: methods are interleaved batch by batch (every
batch goes through every method in turn, the order rotated each round), each rate is the median over rounds and
each ratio the median of the per-round ratios. Compare ratios, not absolute rates across runs.

Reference data: real windows (EOPT normal rows by default; ``--data mi-f`` etc.) drawn with replacement and given
gaussian noise of ``--noise`` x each feature's std, so a reference of any size holds distinct windows;
``--data synthetic`` is a stated generator (``synthetic_windows``). Queries are drawn the same way from all rows,
anomalies included (what the daemon sees).
"""
from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gc
import io
import json
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from pipelines.reference.search import DEFAULT_FAR_EPS

ALL_SCORERS = ("recon", "ares", "ares-cal", "ares-rank", "ares-knn", "nln", "knn-latent", "lof-latent")
PEERS = ("annoy-loop", "pyod-knn", "pyod-iforest", "search:exact", "search:exact-all", "search:annoy", "search:brute")
COLUMNS = ("method", "kind", "size", "windows_s", "vs_ares")


def _ints(text: str) -> tuple[int, ...]:
    out = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        mult = 1
        if part.endswith("k"):
            part, mult = part[:-1], 1_000
        elif part.endswith("m"):
            part, mult = part[:-1], 1_000_000
        out.append(int(float(part) * mult))
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError(f"expected positive sizes like 20k,100k,1m, got {text!r}")
    return tuple(out)


def _names(allowed: tuple[str, ...]) -> Callable[[str], tuple[str, ...]]:
    def parse(text: str) -> tuple[str, ...]:
        if text.strip().lower() in ("", "none"):
            return ()
        names = tuple(n.strip() for n in text.split(",") if n.strip())
        bad = [n for n in names if n not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {', '.join(allowed)}")
        return names
    return parse


@dataclass(frozen=True)
class BenchConfig:
    sizes: tuple[int, ...] = (20_000, 100_000, 1_000_000)
    scorers: tuple[str, ...] = ALL_SCORERS
    peers: tuple[str, ...] = PEERS
    batch: int = 1000
    queries: int = 5000
    rounds: int = 3
    max_seconds: float = 8.0
    data: str = "eopt"
    data_dir: str | None = None
    noise: float = 0.01
    reference: str = "counted"  # "counted": identical windows collapsed with counts (production); "windows"
    train_rows: int = 20_000
    epochs: int = 3
    latent: int = 8
    k: int = 10
    n_trees: int = 10
    search_k: int = 200
    threads: int = 2
    torch_threads: int = 1
    far_eps: float = DEFAULT_FAR_EPS
    brute_max: int = 100_000
    pyod_space: str = "input"
    seed: int = 0
    tune: bool = False
    tune_trees: tuple[int, ...] = (5, 10, 25, 50)
    tune_search_k: tuple[int, ...] = (-1, 100, 200, 500, 1000)
    tune_max: int = 100_000
    profile: bool = False


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = BenchConfig()
    p.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    p.add_argument("--sizes", type=_ints, default=d.sizes, help="reference sizes, e.g. 20k,100k,1m")
    p.add_argument("--scorers", type=_names(ALL_SCORERS), default=d.scorers, help="comma list, or none")
    p.add_argument("--peers", type=_names(PEERS), default=d.peers, help="comma list, or none")
    p.add_argument("--batch", type=int, default=d.batch, help="windows per micro-batch")
    p.add_argument("--queries", type=int, default=d.queries, help="query windows per round (batch-sized pieces)")
    p.add_argument("--rounds", type=int, default=d.rounds, help="interleaved rounds; rates are medians")
    p.add_argument("--max-seconds", type=float, default=d.max_seconds,
                   help="per method and round: a method past this sits out the round's remaining batches")
    p.add_argument("--data", default=d.data, help="eopt, mi-f, mi-v, ... (pipelines.data) or synthetic")
    p.add_argument("--data-dir", default=d.data_dir, help="shared data folder (default: pipelines.data's)")
    p.add_argument("--noise", type=float, default=d.noise, help="noise added to repeated windows, x feature std")
    p.add_argument("--reference", choices=("counted", "windows"), default=d.reference,
                   help="identical windows collapsed into one counted item (production) or one item each; "
                        "the same scores (with --noise 0 the reference repeats windows)")
    p.add_argument("--train-rows", type=int, default=d.train_rows, help="windows the autoencoder is trained on")
    p.add_argument("--epochs", type=int, default=d.epochs, help="autoencoder epochs (speed, not quality)")
    p.add_argument("--latent", type=int, default=d.latent, help="latent width")
    p.add_argument("--k", type=int, default=d.k, help="the reference's k (LOF, k-distance)")
    p.add_argument("--n-trees", type=int, default=d.n_trees, help="Annoy trees of the reference index")
    p.add_argument("--search-k", type=int, default=d.search_k, help="Annoy search_k (-1: n_trees * k)")
    p.add_argument("--threads", type=int, default=d.threads, help="search threads / PyOD n_jobs")
    p.add_argument("--far-eps", type=float, default=d.far_eps,
                   help="the exact search's approximation for far queries (0: exact everywhere)")
    p.add_argument("--torch-threads", type=int, default=d.torch_threads,
                   help="torch intra-op threads for the autoencoder (0: leave torch's default)")
    p.add_argument("--brute-max", type=int, default=d.brute_max, help="largest size search:brute runs at")
    p.add_argument("--pyod-space", choices=("input", "latent"), default=d.pyod_space,
                   help="what PyOD's detectors see: scaled windows or latent codes")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--tune", action="store_true", help="also sweep Annoy n_trees x search_k: recall@k and q/s")
    p.add_argument("--tune-trees", type=_ints, default=d.tune_trees)
    p.add_argument("--tune-search-k", type=lambda s: tuple(int(x) for x in s.split(",")), default=d.tune_search_k)
    p.add_argument("--tune-max", type=int, default=d.tune_max, help="largest size the sweep runs at")
    p.add_argument("--profile", action="store_true", help="also profile ARES: stage split and cProfile top")
    p.add_argument("--json", dest="json_path", default=None, help="also write all results to this JSON file")


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    fields = {f: getattr(args, f) for f in BenchConfig.__dataclass_fields__ if hasattr(args, f)}
    return BenchConfig(**fields)


# ----------------------------------------------------------------------------------------------------------- data

def synthetic_windows(n: int, rng: np.random.Generator, d: int = 18, anomalies: float = 0.0) -> np.ndarray:
    """The stated synthetic generator: 12 gaussian clusters on a fixed random 4-d subspace of R^d (the structure
    is seeded with 1234, independent of rng) plus isotropic noise 0.05; a fraction `anomalies` of rows is uniform
    in the box the normal data spans, widened by 20%."""
    g = np.random.default_rng(1234)
    basis, centers = g.normal(size=(4, d)), g.normal(size=(12, 4)) * 3.0
    c = rng.integers(0, len(centers), n)
    X = (centers[c] + rng.normal(0.0, 0.3, (n, 4))) @ basis + rng.normal(0.0, 0.05, (n, d))
    m = int(round(anomalies * n))
    if m:
        lo, hi = X.min(0), X.max(0)
        span = hi - lo
        X[rng.choice(n, m, replace=False)] = rng.uniform(lo - 0.1 * span, hi + 0.1 * span, (m, d))
    return X


class WindowSource:
    """Normal windows and query windows of one data set, any number of them."""

    def __init__(self, name: str, data_dir: str | None, noise: float) -> None:
        self.name, self.noise = name, float(noise)
        if name == "synthetic":
            self.normal_pool = self.all_pool = None
            self.describe = ("synthetic: 12 gaussian clusters on a 4-d subspace of R^18 (pipelines.bench.scoring."
                             "synthetic_windows); queries hold 10% uniform anomalies")
            return
        from pipelines.data import load_dataset

        ds = load_dataset(name, data_dir)
        if ds.kind != "single":
            raise ValueError(f"bench needs a single-label data set (normal/anomaly), {name} is {ds.kind}")
        self.all_pool = np.asarray(ds.X, dtype=np.float64)
        self.normal_pool = self.all_pool[np.asarray(ds.y) == 0]
        self.std = self.normal_pool.std(axis=0)
        n_distinct = len(np.unique(self.normal_pool, axis=0))
        self.describe = (f"{name}: {len(self.normal_pool):,} normal rows ({n_distinct:,} distinct) drawn with "
                         f"replacement + gaussian noise {self.noise:g} x feature std; queries from all "
                         f"{len(self.all_pool):,} rows ({float(np.mean(np.asarray(ds.y) != 0)):.1%} anomalous)")

    def _draw(self, pool: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        X = pool[rng.integers(0, len(pool), n)]
        return X + rng.normal(0.0, 1.0, X.shape) * (self.noise * self.std)

    def normal(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.normal_pool is None:
            return synthetic_windows(n, rng)
        return self._draw(self.normal_pool, n, rng)

    def queries(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.all_pool is None:
            return synthetic_windows(n, rng, anomalies=0.1)
        return self._draw(self.all_pool, n, rng)


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


# ---------------------------------------------------------------------------------------------------------- peers

def brute_knn(Q: np.ndarray, R, k: int, r_sq=None, block: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """The matrix-product exact search (the alternative to the k-d tree): d2 = |r|^2 - 2 q.r (+ |q|^2 after top-k),
    blocked, `torch.topk`. R and r_sq are torch tensors (prepared once per reference)."""
    import torch

    q_all = torch.from_numpy(np.ascontiguousarray(Q, dtype=np.float32))
    idx_out, d_out = [], []
    for s in range(0, len(q_all), block):
        q = q_all[s:s + block]
        d2 = torch.addmm(r_sq[None, :], q, R.T, alpha=-2.0)
        v, i = torch.topk(d2, k, dim=1, largest=False, sorted=True)
        idx_out.append(i)
        d_out.append((v + (q * q).sum(1, keepdim=True)).clamp_min_(0).sqrt_())
    return torch.cat(idx_out).numpy(), torch.cat(d_out).numpy().astype(np.float64)


def fit_pyod_knn(X: np.ndarray, k: int, n_jobs: int):
    """PyOD KNN fitted as PyOD does it, except the self-scoring pass over the training set (see module doc)."""
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
    hits = sum(len(set(a) & set(e)) for a, e in zip(approx.tolist(), exact.tolist()))
    return hits / (k * len(exact))


# ------------------------------------------------------------------------------------------------------------ run

@dataclass
class SizeResult:
    size: int
    items: int
    build_s: float
    rss_growth_mib: float
    held_mib: float
    annoy_mib: float | None
    method: str
    recall: float | None
    far_rows: float | None = None  # fraction of query windows beyond the exact search's far radius
    far_ares_change: float | None = None  # largest relative change of an ARES score: far path vs exact-all
    far_flips: int | None = None  # query windows on the other side of the q99 calibration threshold because of it
    far_recall: float | None = None  # recall@k of the far path on the far windows, against exact search
    rates: dict[str, float] = field(default_factory=dict)  # method -> median windows/s
    vs_ares: dict[str, float] = field(default_factory=dict)  # method -> median of per-round rate / ares rate
    kinds: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    tune: list[dict[str, Any]] = field(default_factory=list)
    profile: dict[str, Any] = field(default_factory=dict)


def _time_round(runners: dict[str, Callable[[int], Any]], order: list[str], rows: list[int],
                max_s: float) -> dict[str, float]:
    """One round: every batch goes through every method in turn (interleaved per batch, so a change in the
    machine's load hits all methods alike); a method that has used max_s this round sits out the rest of it.
    Returns windows/s per method."""
    spent = dict.fromkeys(order, 0.0)
    done = dict.fromkeys(order, 0)
    for b in range(len(rows)):
        for n in order:
            if done[n] and spent[n] > max_s:
                continue
            t0 = time.perf_counter()
            runners[n](b)
            spent[n] += time.perf_counter() - t0
            done[n] += rows[b]
    return {n: done[n] / max(spent[n], 1e-9) for n in order}


def _annoy_to_file(annoy, folder: str) -> float | None:
    """Save the Annoy index into `folder` and return its size in MiB. Annoy's save() then serves the index from
    that file through mmap, as the daemon does with an artifact's reference.ann."""
    if annoy is None:
        return None
    path = os.path.join(folder, "reference.ann")
    annoy.save(path)
    return os.path.getsize(path) / 2**20


def _held_mib(ref) -> float:
    arrays = sum(a.nbytes for a in ref.arrays().values())
    tree = ref.index._tree
    if tree is not None:  # cKDTree: a float64 copy of the data + the index permutation + ~n/leafsize nodes
        arrays += tree.data.nbytes + tree.indices.nbytes
    return arrays / 2**20


def _profile_ares(online, Xq: list[np.ndarray], top: int = 12) -> dict[str, Any]:
    """Where one ARES batch spends its time: stage split by timers, then cProfile's top functions."""
    stages = {"scale+encode": 0.0, "search": 0.0, "score parts": 0.0, "packaging": 0.0}
    for X in Xq:
        t0 = time.perf_counter()
        Xs, z, xhat, err = online.model.encode(X)
        t1 = time.perf_counter()
        idx, dist = online.reference.neighbours(z, online.k)
        t2 = time.perf_counter()
        from pipelines.scorers import Encoded

        enc = Encoded(x=Xs, z=z, xhat=xhat, err=err, nbr_idx=idx, nbr_dist=dist)
        res = online.scorer.score(enc, online.reference, online.model.decode)
        t3 = time.perf_counter()
        {k: np.asarray(v, dtype=np.float64) for k, v in res.components.items()}
        online.reference.window_ids[idx[:, :min(online.k, 10)]]
        t4 = time.perf_counter()
        for name, dt in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            stages[name] += dt
    total = sum(stages.values())
    prof = cProfile.Profile()
    prof.enable()
    for X in Xq:
        online.score(X)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    return {"stages_pct": {k: round(100 * v / total, 1) for k, v in stages.items()},
            "ms_per_batch": round(1000 * total / len(Xq), 2), "cprofile_top": lines[start:start + top + 1]}


def _tune(ref, Zq: np.ndarray, exact_idx: np.ndarray, cfg: BenchConfig, rng_seed: int) -> list[dict[str, Any]]:
    from pipelines.reference.search import NeighbourIndex

    rows = []
    Zl = Zq.tolist()
    for n_trees in cfg.tune_trees:
        t0 = time.perf_counter()
        annoy = NeighbourIndex.build_annoy(ref.latents, n_trees, rng_seed)
        build_s = time.perf_counter() - t0
        for sk in cfg.tune_search_k:
            get = annoy.get_nns_by_vector
            t0 = time.perf_counter()
            found = [get(z, cfg.k, sk) for z in Zl]
            qps = len(Zl) / (time.perf_counter() - t0)
            short = sum(len(f) < cfg.k for f in found)
            approx = np.array([(f + [-1] * cfg.k)[:cfg.k] for f in found])
            rows.append({"n_trees": n_trees, "search_k": sk, "build_s": round(build_s, 2),
                         "loop_q_s": round(qps), "recall": round(recall_at_k(approx, exact_idx), 4),
                         "short_rows": short})
        del annoy
    return rows


def bench_size(size: int, cfg: BenchConfig, source: WindowSource, model, out=sys.stdout) -> SizeResult:
    """Build a reference of `size` windows with the repo's build_reference, then time everything on it."""
    from pipelines.reference.build import build_reference

    rng = np.random.default_rng([cfg.seed, size])
    Xs_ref = model.scaler.transform(source.normal(size, rng))
    gc.collect()
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    ref = build_reference(model, Xs_ref, k=cfg.k, n_trees=cfg.n_trees, seed=cfg.seed, search_k=cfg.search_k,
                          dedup=cfg.reference == "counted")
    build_s = time.perf_counter() - t0
    gc.collect()
    rss_growth = (rss_bytes() - rss0) / 2**20
    ref.index.threads = cfg.threads
    ref.index.far_eps = cfg.far_eps
    res = SizeResult(size=size, items=ref.size, build_s=round(build_s, 1), rss_growth_mib=round(rss_growth, 1),
                     held_mib=round(_held_mib(ref), 1), annoy_mib=None, method=ref.index.method, recall=None)
    with tempfile.TemporaryDirectory(prefix="lw-bench-") as tmp:
        mib = _annoy_to_file(ref.index.annoy, tmp)
        res.annoy_mib = None if mib is None else round(mib, 1)
        print(f"  reference {size:,}: {ref.size:,} items built in {build_s:.1f}s, RSS +{rss_growth:.0f} MiB, "
              f"search {ref.index.method}", file=out, flush=True)
        try:
            _measure(res, ref, Xs_ref, cfg, source, model, rng)
        finally:
            ref.index.close()
            if ref.index.annoy is not None:
                ref.index.annoy.unload()
    return res


def _measure(res: SizeResult, ref, Xs_ref: np.ndarray, cfg: BenchConfig, source: WindowSource, model,
             rng: np.random.Generator) -> None:
    import torch

    from pipelines.online import OnlineModel
    from pipelines.reference.search import NeighbourIndex, exact_knn
    from pipelines.scorers import make_scorer
    from pipelines.train import Bundle, calibrate

    # query batches, encoded once for the search-only peers
    Xq_all = source.queries(cfg.queries, rng)
    Xq = [Xq_all[s:s + cfg.batch] for s in range(0, len(Xq_all), cfg.batch)]
    Zq = [model.encode(X)[1] for X in Xq]
    rows = [len(X) for X in Xq]
    Z_all = np.concatenate(Zq)

    # recall of the Annoy settings against exact search, on every query row
    exact_idx, exact_dist = exact_knn(Z_all, ref.latents, cfg.k, tree=ref.index.tree, workers=cfg.threads)
    path_idx, _ = ref.index.query(Z_all, cfg.k, method="exact")
    res.far_rows = round(ref.index.last_far / len(Z_all), 4)
    far = exact_dist[:, -1] >= ref.index.far_radius(cfg.k)
    if far.any():
        res.far_recall = round(recall_at_k(path_idx[far], exact_idx[far]), 4)
    index_all = NeighbourIndex(ref.latents, None, threads=cfg.threads, far_eps=0.0)
    if ref.index.annoy is not None:
        annoy_idx, _ = ref.index.query(Z_all, cfg.k, method="annoy")
        res.recall = round(recall_at_k(annoy_idx, exact_idx), 4)

    runners: dict[str, Callable[[int], Any]] = {}
    bundle = Bundle(model=model, reference=ref, metrics={})
    X_val = source.normal(min(2000, cfg.queries), rng)
    for name in cfg.scorers:
        scorer = make_scorer(name)
        calibration = calibrate(bundle, scorer, X_val)
        online = OnlineModel(path=None, manifest={"version": "bench"}, model=model, reference=ref, scorer=scorer,
                             calibration=calibration)
        runners[name] = lambda b, o=online: o.score(Xq[b])
        res.kinds[name] = "scorer"
        if name == "ares" and cfg.profile:
            res.profile = _profile_ares(online, Xq)
        if name == "ares" and ref.index.method == "exact":  # what the far path changes in the scores
            exact_all = OnlineModel(path=None, manifest={"version": "bench"}, model=model,
                                    reference=dataclasses.replace(ref, index=index_all), scorer=scorer,
                                    calibration=calibration)
            a = np.concatenate([online.score(X).score for X in Xq])
            e = np.concatenate([exact_all.score(X).score for X in Xq])
            res.far_ares_change = float(np.max(np.abs(a - e) / np.maximum(np.abs(e), 1e-12)))
            thr = float(np.quantile(calibration, 0.99))
            res.far_flips = int(np.sum((a > thr) != (e > thr)))
    k10 = 10  # the peers' k: ARES's default
    for name in cfg.peers:
        if name == "annoy-loop":
            if ref.index.annoy is None:
                continue
            get, sk = ref.index.annoy.get_nns_by_vector, cfg.search_k

            def annoy_loop(b: int, get=get, sk=sk) -> None:
                for z in Zq[b]:
                    get(z, k10, sk, True)
            runners[name] = annoy_loop
        elif name == "search:exact":
            runners[name] = lambda b: ref.index.query(Zq[b], k10, method="exact")
        elif name == "search:exact-all":
            runners[name] = lambda b, ix=index_all: ix.query(Zq[b], k10, method="exact")
        elif name == "search:annoy":
            if ref.index.annoy is None:
                continue
            runners[name] = lambda b: ref.index.query(Zq[b], k10, method="annoy")
        elif name == "search:brute":
            if res.size > cfg.brute_max:
                res.notes.append(f"search:brute skipped above --brute-max {cfg.brute_max:,}")
                continue
            R_t = torch.from_numpy(ref.latents)
            r_sq = (R_t * R_t).sum(1)
            runners[name] = lambda b, R_t=R_t, r_sq=r_sq: brute_knn(Zq[b], R_t, k10, r_sq)
        elif name in ("pyod-knn", "pyod-iforest"):
            try:
                import pyod  # noqa: F401
            except ImportError:
                res.notes.append(f"{name} skipped: PyOD is not installed (pip install 'latentwatch[bench]')")
                continue
            if cfg.pyod_space == "input":
                fit_rows, q_rows = Xs_ref, [model.scaler.transform(X) for X in Xq]
            else:
                fit_rows, q_rows = ref.latents, Zq
            t1 = time.perf_counter()
            det = (fit_pyod_knn(fit_rows, k10, cfg.threads) if name == "pyod-knn"
                   else fit_pyod_iforest(fit_rows, cfg.threads, cfg.seed))
            res.notes.append(f"{name} fitted on {len(fit_rows):,} {cfg.pyod_space} rows in "
                             f"{time.perf_counter() - t1:.1f}s")
            runners[name] = lambda b, det=det, q_rows=q_rows: det.decision_function(q_rows[b])
        res.kinds.setdefault(name, "peer")

    for fn in runners.values():  # warm-up: thread pools, lazy inits, caches
        fn(0)
    per_round: dict[str, list[float]] = {n: [] for n in runners}
    names = list(runners)
    for r in range(cfg.rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for n, rate in _time_round(runners, order, rows, cfg.max_seconds).items():
            per_round[n].append(rate)
    res.rates = {n: round(float(np.median(v)), 1) for n, v in per_round.items()}
    if "ares" in per_round:
        a = np.array(per_round["ares"])
        res.vs_ares = {n: round(float(np.median(np.array(v) / a)), 3) for n, v in per_round.items()}
    if cfg.tune and res.size <= cfg.tune_max:
        res.tune = _tune(ref, Z_all, exact_idx, cfg, cfg.seed)


def train_model(cfg: BenchConfig, source: WindowSource):
    from pipelines.train import TrainSpec, fit_bundle

    rng = np.random.default_rng([cfg.seed, 0])
    X_train = source.normal(cfg.train_rows, rng)
    X_val = source.normal(max(200, cfg.train_rows // 4), rng)
    spec = TrainSpec(epochs=cfg.epochs, patience=cfg.epochs, latent=cfg.latent, k=cfg.k, n_trees=cfg.n_trees,
                     search_k=cfg.search_k, device="cpu")
    bundle = fit_bundle(X_train, X_val, spec, seed=cfg.seed, progress=False)
    return bundle.model, bundle.metrics


# --------------------------------------------------------------------------------------------------------- report

def _fmt_ratio(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.2f}" if v >= 0.1 else f"{v:.4f}"


def _fmt_rate(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"


def _size_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def goals(results: list[SizeResult]) -> list[dict[str, Any]]:
    """The issue's goals, per size: ARES vs the raw Annoy loop, PyOD KNN, and PyOD IsolationForest (<= 100k)."""
    out = []
    for r in results:
        v = r.vs_ares
        if "ares" not in r.rates:
            continue
        checks = [("ares >= annoy-loop", "annoy-loop", 1.0, False, True),
                  ("ares > pyod-knn", "pyod-knn", 1.0, True, True),
                  ("ares >= 0.5 x pyod-iforest", "pyod-iforest", 0.5, False, r.size <= 100_000)]
        for goal, peer, need, strict, applies in checks:
            if not v.get(peer):
                continue
            ratio = 1.0 / v[peer]  # ares / peer
            ok = ratio > need if strict else ratio >= need
            out.append({"size": r.size, "goal": goal, "ares_over_peer": round(ratio, 2),
                        "status": ("met" if ok else "MISSED") if applies else "n/a (> 100k)"})
    return out


def format_report(cfg: BenchConfig, source_desc: str, model_metrics: dict, results: list[SizeResult]) -> str:
    from pipelines.reference.search import DEFAULT_EXACT_MAX

    lines = []
    lines.append(f"data: {source_desc}")
    lines.append(f"model: latent {cfg.latent}, {model_metrics.get('epochs_run')} epochs on {cfg.train_rows:,} "
                 f"windows | batch {cfg.batch} | {cfg.queries:,} query windows | {cfg.rounds} rounds, median")
    lines.append(f"search threads {cfg.threads}, torch threads {cfg.torch_threads or 'default'} | annoy "
                 f"n_trees={cfg.n_trees} search_k={cfg.search_k} | pyod on {cfg.pyod_space} rows, n_jobs "
                 f"{cfg.threads} | reference search: exact up to DEFAULT_EXACT_MAX={DEFAULT_EXACT_MAX:,}")
    lines.append("")
    lines.append("reference")
    lines.append(f"{'size':>9} {'items':>9} {'build_s':>8} {'rss_mib':>8} {'held_mib':>9} {'annoy_mib':>10} "
                 f"{'method':>7} {'far_rows':>8} {'far_recall':>10} {'far_ares_change':>15} {'far_flips':>9} "
                 f"{'annoy_recall@' + str(cfg.k):>16}")
    for r in results:
        annoy_mib = "-" if r.annoy_mib is None else f"{r.annoy_mib:.1f}"
        recall = "-" if r.recall is None else f"{r.recall:.4f}"
        far = "-" if r.far_rows is None else f"{r.far_rows:.2%}"
        change = "-" if r.far_ares_change is None else f"{r.far_ares_change:.2%}"
        flips = "-" if r.far_flips is None else str(r.far_flips)
        far_recall = "-" if r.far_recall is None else f"{r.far_recall:.4f}"
        lines.append(f"{_size_label(r.size):>9} {r.items:>9,} {r.build_s:>8.1f} {r.rss_growth_mib:>8.1f} "
                     f"{r.held_mib:>9.1f} {annoy_mib:>10} {r.method:>7} {far:>8} {far_recall:>10} {change:>15} "
                     f"{flips:>9} {recall:>16}")
    lines.append("")
    names: list[str] = []
    for r in results:
        names += [n for n in r.rates if n not in names]
    head = f"{'method':<17} {'kind':<7}" + "".join(
        f" {_size_label(r.size) + ' w/s':>12} {'vs_ares':>8}" for r in results)
    lines.append(f"far_rows: query windows beyond the exact search's far radius, given (1+far_eps)-approximate "
                 f"neighbours (far_eps={cfg.far_eps:g}); far_recall:")
    lines.append("their recall@k; far_ares_change: the largest relative change that makes to an ARES score; "
                 "far_flips: windows it moves across")
    lines.append("the 99th percentile of the calibration scores")
    lines.append("")
    lines.append("windows/s (vs_ares = rate / ARES rate in the same rounds)")
    lines.append(head)
    for n in names:
        kind = next((r.kinds[n] for r in results if n in r.kinds), "")
        row = f"{n:<17} {kind:<7}"
        for r in results:
            rate, ratio = r.rates.get(n), r.vs_ares.get(n)
            row += f" {_fmt_rate(rate):>12} {_fmt_ratio(ratio):>8}"
        lines.append(row)
    g = goals(results)
    if g:
        lines.append("")
        lines.append("goals (ares/peer = ARES windows/s over the peer's, same rounds)")
        for x in g:
            lines.append(f"  {_size_label(x['size']):>5}  {x['goal']:<28} ares/peer {x['ares_over_peer']:>7.2f}  "
                         f"{x['status']}")
    for r in results:
        for note in r.notes:
            lines.append(f"  note {_size_label(r.size)}: {note}")
    for r in results:
        if r.tune:
            lines.append("")
            lines.append(f"annoy sweep at {_size_label(r.size)} (one-thread loop, k={cfg.k}, recall vs exact)")
            lines.append(f"{'n_trees':>8} {'search_k':>9} {'build_s':>8} {'loop_q/s':>9} {'recall':>7} {'short':>6}")
            for t in r.tune:
                lines.append(f"{t['n_trees']:>8} {t['search_k']:>9} {t['build_s']:>8.2f} {t['loop_q_s']:>9,} "
                             f"{t['recall']:>7.4f} {t['short_rows']:>6}")
    for r in results:
        if r.profile:
            lines.append("")
            lines.append(f"ares profile at {_size_label(r.size)}: {r.profile['ms_per_batch']} ms/batch, "
                         + ", ".join(f"{k} {v}%" for k, v in r.profile["stages_pct"].items()))
            lines += ["  " + ln for ln in r.profile["cprofile_top"]]
    return "\n".join(lines)


def run_bench(cfg: BenchConfig, out=sys.stdout) -> tuple[str, dict[str, Any]]:
    """Train the model, bench every size; returns (the printed report, everything as a JSON-able dict)."""
    import torch

    if cfg.batch < 1 or cfg.queries < cfg.batch or cfg.rounds < 1:
        raise ValueError("need batch >= 1, queries >= batch and rounds >= 1")
    if "ares" not in cfg.scorers:
        print("note: ARES is not among --scorers, so no vs_ares ratios or goals", file=out)
    torch_threads = torch.get_num_threads()
    if cfg.torch_threads > 0:
        torch.set_num_threads(cfg.torch_threads)
    try:
        t0 = time.perf_counter()
        source = WindowSource(cfg.data, cfg.data_dir, cfg.noise)
        model, metrics = train_model(cfg, source)
        print(f"model trained in {time.perf_counter() - t0:.1f}s ({metrics['epochs_run']} epochs)", file=out,
              flush=True)
        results = [bench_size(size, cfg, source, model, out) for size in cfg.sizes]
    finally:
        torch.set_num_threads(torch_threads)
    report = format_report(cfg, source.describe, metrics, results)
    doc = {"config": asdict(cfg), "data": source.describe, "model": metrics,
           "results": [asdict(r) for r in results], "goals": goals(results),
           "seconds": round(time.perf_counter() - t0, 1)}
    return report, doc


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    report, doc = run_bench(cfg, out=sys.stderr)
    print(report, flush=True)
    if getattr(args, "json_path", None):
        with open(args.json_path, "w") as f:
            json.dump(doc, f, indent=2)
    return 0
