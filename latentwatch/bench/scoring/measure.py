"""One reference size: build it with the repo's build_reference, then time every scorer and peer on the same
query batches, interleaved (latentwatch/bench/scoring/__init__.py says what is timed)."""

from __future__ import annotations

import cProfile
import dataclasses
import gc
import io
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from latentwatch.bench.scoring.config import BenchConfig
from latentwatch.bench.scoring.models import Timed
from latentwatch.bench.scoring.peers import peer_runners, recall_at_k
from latentwatch.bench.scoring.windows import WindowSource

ANCHOR = "ares"  # the row every ratio divides by: ARES on the primary (plain autoencoder) model


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


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
    models: dict[str, str] = field(default_factory=dict)  # scorer row -> the training variant of its model
    notes: list[str] = field(default_factory=list)
    tune: list[dict[str, Any]] = field(default_factory=list)
    profile: dict[str, Any] = field(default_factory=dict)


def _time_round(
    runners: dict[str, Callable[[int], Any]], order: list[str], rows: list[int], max_s: float
) -> dict[str, float]:
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
        online.reference.window_ids[idx[:, : min(online.k, 10)]]
        t4 = time.perf_counter()
        for name, dt in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
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
    return {
        "stages_pct": {k: round(100 * v / total, 1) for k, v in stages.items()},
        "ms_per_batch": round(1000 * total / len(Xq), 2),
        "cprofile_top": lines[start : start + top + 1],
    }


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
            approx = np.array([(f + [-1] * cfg.k)[: cfg.k] for f in found])
            rows.append(
                {
                    "n_trees": n_trees,
                    "search_k": sk,
                    "build_s": round(build_s, 2),
                    "loop_q_s": round(qps),
                    "recall": round(recall_at_k(approx, exact_idx), 4),
                    "short_rows": short,
                }
            )
        del annoy
    return rows


def _build(model, X_ref: np.ndarray, cfg: BenchConfig):
    from pipelines.reference.build import build_reference

    ref = build_reference(
        model,
        model.scaler.transform(X_ref),
        k=cfg.k,
        n_trees=cfg.n_trees,
        seed=cfg.seed,
        search_k=cfg.search_k,
        dedup=cfg.reference == "counted",
    )
    ref.index.threads = cfg.threads
    ref.index.far_eps = cfg.far_eps
    return ref


def _close(ref) -> None:
    ref.index.close()
    if ref.index.annoy is not None:
        ref.index.annoy.unload()


def bench_size(
    size: int, cfg: BenchConfig, source: WindowSource, models: dict[str, Any], timed: list[Timed], out=sys.stdout
) -> SizeResult:
    """Build a reference of `size` windows with the repo's build_reference for the first (primary) model, time its
    scorers and every peer on it; then, one at a time, each other model's reference of the same windows and its
    scorers, interleaved with the primary model's ARES (their vs_ares)."""
    rng = np.random.default_rng([cfg.seed, size])
    primary, *others = models
    model = models[primary]
    X_ref = source.normal(size, rng)
    Xs_ref = model.scaler.transform(X_ref)
    gc.collect()
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    ref = _build(model, X_ref, cfg)
    build_s = time.perf_counter() - t0
    gc.collect()
    rss_growth = (rss_bytes() - rss0) / 2**20
    res = SizeResult(
        size=size,
        items=ref.size,
        build_s=round(build_s, 1),
        rss_growth_mib=round(rss_growth, 1),
        held_mib=round(_held_mib(ref), 1),
        annoy_mib=None,
        method=ref.index.method,
        recall=None,
    )
    with tempfile.TemporaryDirectory(prefix="lw-bench-") as tmp:
        mib = _annoy_to_file(ref.index.annoy, tmp)
        res.annoy_mib = None if mib is None else round(mib, 1)
        print(
            f"  reference {size:,}: {ref.size:,} items built in {build_s:.1f}s, RSS +{rss_growth:.0f} MiB, "
            f"search {ref.index.method}",
            file=out,
            flush=True,
        )
        try:
            shared = _measure(res, ref, Xs_ref, cfg, source, model, rng, [t for t in timed if t.variant == primary])
            for v in others:
                _measure_variant(res, v, models[v], X_ref, cfg, shared, [t for t in timed if t.variant == v], out)
        finally:
            _close(ref)
    return res


def _online(model, ref, name: str, X_val: np.ndarray):
    """The daemon's OnlineModel for one scorer, calibrated on validation normals as training calibrates it."""
    from pipelines.fit import Bundle, calibrate
    from pipelines.online import OnlineModel
    from pipelines.scorers import make_scorer

    scorer = make_scorer(name)
    calibration = calibrate(Bundle(model=model, reference=ref, metrics={}), scorer, X_val)
    online = OnlineModel(
        path=None, manifest={"version": "bench"}, model=model, reference=ref, scorer=scorer, calibration=calibration
    )
    return online, calibration


def _rounds(runners: dict[str, Callable[[int], Any]], rows: list[int], cfg: BenchConfig) -> dict[str, list[float]]:
    """Warm every method up, then cfg.rounds interleaved rounds, the order rotated each round: method -> rates."""
    for fn in runners.values():  # warm-up: thread pools, lazy inits, caches
        fn(0)
    per_round: dict[str, list[float]] = {n: [] for n in runners}
    names = list(runners)
    for r in range(cfg.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for n, rate in _time_round(runners, order, rows, cfg.max_seconds).items():
            per_round[n].append(rate)
    return per_round


def _ratios(per_round: dict[str, list[float]], anchor: str) -> dict[str, float]:
    a = np.array(per_round[anchor])
    return {n: round(float(np.median(np.array(v) / a)), 3) for n, v in per_round.items()}


def _measure(
    res: SizeResult,
    ref,
    Xs_ref: np.ndarray,
    cfg: BenchConfig,
    source: WindowSource,
    model,
    rng: np.random.Generator,
    timed: list[Timed],
) -> dict[str, Any]:
    """Time the primary model's scorers and the peers on its reference; returns what the other models' rounds
    share with it (the query batches, the validation windows, the ARES runner)."""
    from pipelines.online import OnlineModel
    from pipelines.reference.search import NeighbourIndex, exact_knn

    # query batches, encoded once for the search-only peers
    Xq_all = source.queries(cfg.queries, rng)
    Xq = [Xq_all[s : s + cfg.batch] for s in range(0, len(Xq_all), cfg.batch)]
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
    X_val = source.normal(min(2000, cfg.queries), rng)
    for t in timed:
        online, calibration = _online(model, ref, t.scorer, X_val)
        runners[t.label] = lambda b, o=online: o.score(Xq[b])
        res.kinds[t.label], res.models[t.label] = "scorer", t.variant
        if t.label != ANCHOR:
            continue
        if cfg.profile:
            res.profile = _profile_ares(online, Xq)
        if ref.index.method == "exact":  # what the far path changes in the scores
            exact_all = OnlineModel(
                path=None,
                manifest={"version": "bench"},
                model=model,
                reference=dataclasses.replace(ref, index=index_all),
                scorer=online.scorer,
                calibration=calibration,
            )
            a = np.concatenate([online.score(X).score for X in Xq])
            e = np.concatenate([exact_all.score(X).score for X in Xq])
            res.far_ares_change = float(np.max(np.abs(a - e) / np.maximum(np.abs(e), 1e-12)))
            thr = float(np.quantile(calibration, 0.99))
            res.far_flips = int(np.sum((a > thr) != (e > thr)))
    for name, runner in peer_runners(cfg, res.size, ref, index_all, model, Xs_ref, Xq, Zq, res.notes).items():
        runners[name] = runner
        res.kinds.setdefault(name, "peer")

    per_round = _rounds(runners, rows, cfg)
    res.rates = {n: round(float(np.median(v)), 1) for n, v in per_round.items()}
    if ANCHOR in per_round:
        res.vs_ares = _ratios(per_round, ANCHOR)
    if cfg.tune and res.size <= cfg.tune_max:
        res.tune = _tune(ref, Z_all, exact_idx, cfg, cfg.seed)
    return {"Xq": Xq, "rows": rows, "X_val": X_val, "ares": runners.get(ANCHOR)}


def _measure_variant(
    res: SizeResult,
    variant: str,
    model,
    X_ref: np.ndarray,
    cfg: BenchConfig,
    shared: dict[str, Any],
    timed: list[Timed],
    out=sys.stdout,
) -> None:
    """One more model's scorers on its own reference of the same windows, timed on the same query batches in rounds
    interleaved with the primary model's ARES, so their vs_ares is measured under the same load."""
    t0 = time.perf_counter()
    ref = _build(model, X_ref, cfg)
    build_s = time.perf_counter() - t0
    print(f"  reference {res.size:,} of the {variant} model: {ref.size:,} items in {build_s:.1f}s", file=out)
    try:
        Xq = shared["Xq"]
        runners: dict[str, Callable[[int], Any]] = {}
        if shared["ares"] is not None:
            runners[ANCHOR] = shared["ares"]
        for t in timed:
            online, _ = _online(model, ref, t.scorer, shared["X_val"])
            runners[t.label] = lambda b, o=online: o.score(Xq[b])
            res.kinds[t.label], res.models[t.label] = "scorer", variant
        per_round = _rounds(runners, shared["rows"], cfg)
        for t in timed:
            res.rates[t.label] = round(float(np.median(per_round[t.label])), 1)
        note = f"{variant} model: its reference ({ref.size:,} items) built in {build_s:.1f}s"
        if ANCHOR in per_round:
            ratios = _ratios(per_round, ANCHOR)
            res.vs_ares.update({t.label: ratios[t.label] for t in timed})
            note += f"; ARES {float(np.median(per_round[ANCHOR])):,.0f} w/s in the rounds of its scorers"
        res.notes.append(note)
    finally:
        _close(ref)
