"""AUROC of latentwatch's scorers and the peers on the ARES-protocol data sets, one split per (arrangement, seed).

The jobs, splits and the autoencoder are `latentwatch evaluate`'s own (``pipelines.evaluate.runner.plan``,
``make_split``, ``score_variant``: the same arrangements, seeds, TrainSpec and per-data-set overrides), so the
latentwatch rows equal that command's. Peers see what its baselines see: the model's scaler (min-max on the training
split) applied to the same training and test rows. Streaming peers and PyOD's AutoEncoder learn from at most
``max_train`` training rows (a seeded subsample, kept in time order), like the evaluation's OC-SVM cap.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from latentwatch.bench.peers.config import PeersConfig
from latentwatch.bench.peers.registry import PEERS
from pipelines.batch_encoding import encode_batch, neighbours_needed
from pipelines.evaluate.protocol import VAL_FRACTION, make_split
from pipelines.evaluate.runner import EvalConfig, aggregate, metrics, plan, score_variant
from pipelines.scorers import make_scorer


@dataclass
class Scorers:
    """The first run's fitted methods, each as a function of raw windows, for the throughput measurement."""

    X: np.ndarray
    score: dict[str, Callable[[np.ndarray], Any]] = field(default_factory=dict)


def eval_config(cfg: PeersConfig) -> EvalConfig:
    return EvalConfig(
        datasets=cfg.datasets,
        seeds=cfg.seeds,
        scorers=cfg.scorers,
        baselines=(),
        epochs=cfg.epochs,
        max_classes=cfg.max_classes,
        settings=cfg.settings,
        data_dir=cfg.data_dir,
    )


def subsample(n: int, cap: int, seed: int) -> np.ndarray:
    if n <= cap:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, cap, replace=False))


def run_peer(name: str, Xs_tr: np.ndarray, Xs_te: np.ndarray, seed: int, max_train: int) -> tuple[Any, np.ndarray]:
    """(the fitted adapter, its test scores)."""
    spec = PEERS[name]
    assert spec.make is not None, f"{name} is a thresholder, not a scorer"
    rows = Xs_tr[subsample(len(Xs_tr), max_train, seed)] if spec.streaming else Xs_tr
    peer = spec.make(seed)
    peer.fit(rows)
    return peer, peer.score(Xs_te)


def timing(model: Any, ref: Any, scorers: dict[str, Any], fitted: dict[str, Any], X: np.ndarray) -> Scorers:
    """Each method as one function of raw windows: latentwatch's scorers through encode + search + score, the
    peers through the model's scaler."""
    k = neighbours_needed(ref, *scorers.values())
    out = Scorers(X)

    def ours(sc: Any) -> Callable[[np.ndarray], Any]:
        return lambda X: sc.score(encode_batch(model, ref, X, k), ref, model.decode)

    def peer(p: Any) -> Callable[[np.ndarray], Any]:
        return lambda X: p.score(model.scaler.transform(X))

    out.score.update({n: ours(sc) for n, sc in scorers.items()})
    out.score.update({n: peer(p) for n, p in fitted.items()})
    return out


def run_auroc(
    cfg: PeersConfig, runnable: list[str], load: Callable[[str], Any], log: Callable[[str], None]
) -> tuple[list[dict[str, Any]], Scorers | None]:
    """(one aggregate row per data set, setting and method, as `latentwatch evaluate` aggregates; the first run's
    scoring functions)."""
    ecfg = eval_config(cfg)
    peers = [p for p in runnable if PEERS[p].make is not None]
    runs, timed = [], None
    jobs = plan(ecfg, load)
    for i, (ds, arr, seed) in enumerate(jobs):
        t0 = time.perf_counter()
        split = make_split(ds.y, arr, seed, VAL_FRACTION)
        X_tr, X_va, X_te, y_te = ds.X[split.train], ds.X[split.val], ds.X[split.test], split.y_test
        scorers = {n: make_scorer(n, **ecfg.params_for(arr.dataset, n)) for n in cfg.scorers}
        methods: dict[str, Any] = {}
        bundle, _ = score_variant(X_tr, X_va, X_te, y_te, ecfg.spec_for(arr.dataset), seed, scorers, "", methods)
        model, ref = bundle.model, bundle.reference
        Xs_tr, Xs_te = model.scaler.transform(X_tr), model.scaler.transform(X_te)
        fitted = {}
        for name in peers:
            t = time.perf_counter()
            fitted[name], s = run_peer(name, Xs_tr, Xs_te, seed, cfg.max_train)
            methods[name] = {**metrics(y_te, s), "seconds": round(time.perf_counter() - t, 3)}
        runs.append({"dataset": arr.dataset, "setting": arr.setting, "seed": seed, "methods": methods})
        log(f"auroc {i + 1}/{len(jobs)} {arr.key} seed {seed}: {time.perf_counter() - t0:.0f}s")
        if timed is None:
            timed = timing(model, ref, scorers, fitted, X_te)
    return aggregate(runs), timed
