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

Every scorer of ``pipelines.scorers.REGISTRY`` is timed by default, each on a model it can score
(latentwatch/bench/scoring/models.py): one model per training variant the scorers need (lfr, vae, deae, ...; or
``--variants``), all trained on the same windows, each with its own reference of the same reference windows,
scored through the same ``OnlineModel.score``. The plain autoencoder's scorers and the peers share rounds; each
other model's scorers get rounds of their own, interleaved with ARES on the plain autoencoder, so every vs_ares is
a ratio to that ARES under the same load.

The machine is shared, so absolute numbers move between runs: methods are interleaved batch by batch (every
batch goes through every method in turn, the order rotated each round), each rate is the median over rounds and
each ratio the median of the per-round ratios. Compare ratios, not absolute rates across runs.

Reference data: real windows (EOPT normal rows by default; ``--data mi-f`` etc.) drawn with replacement and given
gaussian noise of ``--noise`` x each feature's std, so a reference of any size holds distinct windows;
``--data synthetic`` is a stated generator (``latentwatch.bench.scoring.windows.synthetic_windows``). Queries are
drawn the same way from all rows, anomalies included (what the daemon sees).

Modules: config (BenchConfig), models (which models, which scorer on which), windows (the data), peers, measure
(one reference size), report.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from latentwatch.bench.scoring.config import ALL_SCORERS, PEERS, BenchConfig
from latentwatch.bench.scoring.measure import ANCHOR, bench_size
from latentwatch.bench.scoring.models import PRIMARY, plan, train_models
from latentwatch.bench.scoring.report import format_report, goals
from latentwatch.bench.scoring.windows import WindowSource


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


def _scorer_names(text: str) -> tuple[str, ...]:
    """Names are checked against the registries once --variants is known (models.plan)."""
    if text.strip().lower() in ("", "none"):
        return ()
    return tuple(n.strip() for n in text.split(",") if n.strip())


def _variant_names(text: str) -> tuple[str, ...]:
    from pipelines.model.variants import REGISTRY

    return _names(tuple(REGISTRY))(text)


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = BenchConfig()
    p.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    p.add_argument("--sizes", type=_ints, default=d.sizes, help="reference sizes, e.g. 20k,100k,1m")
    p.add_argument(
        "--scorers",
        type=_scorer_names,
        default=d.scorers,
        help="comma list, or none; a name or <variant>:<name> (default: every registered scorer: "
        f"{','.join(ALL_SCORERS)}; each on a model of the training variant it needs, the rest on ae)",
    )
    p.add_argument(
        "--variants",
        type=_variant_names,
        default=d.variants,
        help="training variants, one model each (default: those the --scorers need); ARES on ae is every ratio's "
        "denominator",
    )
    p.add_argument("--peers", type=_names(PEERS), default=d.peers, help="comma list, or none")
    p.add_argument("--batch", type=int, default=d.batch, help="windows per micro-batch")
    p.add_argument("--queries", type=int, default=d.queries, help="query windows per round (batch-sized pieces)")
    p.add_argument("--rounds", type=int, default=d.rounds, help="interleaved rounds; rates are medians")
    p.add_argument(
        "--max-seconds",
        type=float,
        default=d.max_seconds,
        help="per method and round: a method past this sits out the round's remaining batches",
    )
    p.add_argument("--data", default=d.data, help="eopt, mi-f, mi-v, ... (pipelines.data) or synthetic")
    p.add_argument("--data-dir", default=d.data_dir, help="shared data folder (default: pipelines.data's)")
    p.add_argument("--noise", type=float, default=d.noise, help="noise added to repeated windows, x feature std")
    p.add_argument(
        "--reference",
        choices=("counted", "windows"),
        default=d.reference,
        help="identical windows collapsed into one counted item (production) or one item each; "
        "the same scores (with --noise 0 the reference repeats windows)",
    )
    p.add_argument("--train-rows", type=int, default=d.train_rows, help="windows the autoencoder is trained on")
    p.add_argument("--epochs", type=int, default=d.epochs, help="autoencoder epochs (speed, not quality)")
    p.add_argument("--latent", type=int, default=d.latent, help="latent width")
    p.add_argument("--k", type=int, default=d.k, help="the reference's k (LOF, k-distance)")
    p.add_argument("--n-trees", type=int, default=d.n_trees, help="Annoy trees of the reference index")
    p.add_argument("--search-k", type=int, default=d.search_k, help="Annoy search_k (-1: n_trees * k)")
    p.add_argument("--threads", type=int, default=d.threads, help="search threads / PyOD n_jobs")
    p.add_argument(
        "--far-eps",
        type=float,
        default=d.far_eps,
        help="the exact search's approximation for far queries (0: exact everywhere)",
    )
    p.add_argument(
        "--torch-threads",
        type=int,
        default=d.torch_threads,
        help="torch intra-op threads for the autoencoder (0: leave torch's default)",
    )
    p.add_argument("--brute-max", type=int, default=d.brute_max, help="largest size search:brute runs at")
    p.add_argument(
        "--pyod-space",
        choices=("input", "latent"),
        default=d.pyod_space,
        help="what PyOD's detectors see: scaled windows or latent codes",
    )
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


def run_bench(cfg: BenchConfig, out=sys.stdout) -> tuple[str, dict[str, Any]]:
    """Train the model, bench every size; returns (the printed report, everything as a JSON-able dict)."""
    import torch

    if cfg.batch < 1 or cfg.queries < cfg.batch or cfg.rounds < 1:
        raise ValueError("need batch >= 1, queries >= batch and rounds >= 1")
    variants, timed = plan(cfg.scorers, cfg.variants)
    if not any(t.label == ANCHOR and t.variant == PRIMARY for t in timed):
        print("note: ARES is not among --scorers, so no vs_ares ratios or goals", file=out)
    torch_threads = torch.get_num_threads()
    if cfg.torch_threads > 0:
        torch.set_num_threads(cfg.torch_threads)
    try:
        t0 = time.perf_counter()
        source = WindowSource(cfg.data, cfg.data_dir, cfg.noise)
        trained = train_models(cfg, source, variants)
        print(
            f"{len(trained)} model(s) trained in {time.perf_counter() - t0:.1f}s ("
            + ", ".join(f"{v} {m['epochs_run']} epochs" for v, (_, m) in trained.items())
            + ")",
            file=out,
            flush=True,
        )
        models = {v: model for v, (model, _) in trained.items()}
        results = [bench_size(size, cfg, source, models, timed, out) for size in cfg.sizes]
    finally:
        torch.set_num_threads(torch_threads)
    metrics = {v: m for v, (_, m) in trained.items()}
    report = format_report(cfg, source.describe, metrics, results)
    doc = {
        "config": asdict(cfg),
        "data": source.describe,
        "model": metrics[variants[0]],
        "models": metrics,
        "timed": [asdict(t) for t in timed],
        "results": [asdict(r) for r in results],
        "goals": goals(results),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    return report, doc


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    try:
        plan(cfg.scorers, cfg.variants)
    except ValueError as e:
        print(f"latentwatch bench scoring: {e}", file=sys.stderr)
        return 2
    report, doc = run_bench(cfg, out=sys.stderr)
    print(report, flush=True)
    if getattr(args, "json_path", None):
        with open(args.json_path, "w") as f:
            json.dump(doc, f, indent=2)
    return 0
