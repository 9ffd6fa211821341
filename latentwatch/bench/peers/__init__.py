"""`latentwatch bench peers`: latentwatch next to the detectors a user would install instead, in one run.

Three parts, each on the same data and protocol for every method: AUROC on the ARES-protocol data sets
(auroc.py: `latentwatch evaluate`'s own jobs and splits), F1/FAR/MAR under SKAB's protocol (skab.py), and
scoring throughput as ratios to latentwatch's ARES (throughput.py, on the first AUROC run's fitted methods).
The peers and their adapters: registry.py, adapters.py. The default is a quick run (two small data sets, seed 0,
two classes, SKAB valve1); the README's tables name the full command.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from latentwatch.bench.peers.config import PeersConfig
from latentwatch.bench.peers.registry import PEERS, unavailable


def _names(text: str) -> tuple[str, ...]:
    return () if text.strip().lower() in ("", "none") else tuple(n.strip() for n in text.split(",") if n.strip())


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(n) for n in _names(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from e


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = PeersConfig()
    p.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    p.add_argument("--peers", type=_names, default=d.peers, help=f"comma list of {', '.join(PEERS)}, or none")
    p.add_argument("--scorers", type=_names, default=d.scorers, help="latentwatch's scorers on the AUROC sets")
    p.add_argument("--datasets", type=_names, default=d.datasets, help="`latentwatch evaluate` names, or none")
    p.add_argument("--seeds", type=_ints, default=d.seeds)
    p.add_argument("--max-classes", type=int, default=d.max_classes, help="multi-class sets: first classes (0: all)")
    p.add_argument("--settings", type=_names, default=d.settings, help="unimodal,multimodal (default both)")
    p.add_argument("--epochs", type=int, default=d.epochs, help="cap the autoencoder's epochs (default: protocol)")
    p.add_argument("--max-train", type=int, default=d.max_train, help="streaming peers and PyOD AE: training rows")
    p.add_argument("--skab-subsets", type=_names, default=d.skab_subsets, help="valve1,valve2,other, or none")
    p.add_argument("--skab-scorers", type=_names, default=d.skab_scorers, help="latentwatch's scorers on SKAB")
    p.add_argument("--throughput-rows", type=int, default=d.throughput_rows, help="windows per round")
    p.add_argument("--batch", type=int, default=d.batch, help="windows per scoring call")
    p.add_argument("--rounds", type=int, default=d.rounds, help="interleaved throughput rounds (medians)")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--data-dir", default=None, help="shared data folder (default: pipelines.data's)")
    p.add_argument("--json", dest="json_path", default=None, help="also write everything to this JSON file")
    p.add_argument("--svg", default=None, help="also write the AUROC-by-data-set plot to this SVG file")


def config_from_args(args: argparse.Namespace) -> PeersConfig:
    fields = {f: getattr(args, f) for f in PeersConfig.__dataclass_fields__ if hasattr(args, f)}
    if fields.get("max_classes") == 0:
        fields["max_classes"] = None
    return PeersConfig(**fields)


def run_bench(cfg: PeersConfig, log: Callable[[str], None]) -> dict[str, Any]:
    """Every part of the run; returns the JSON-able record the report is formatted from."""
    from latentwatch.bench.peers.auroc import run_auroc
    from latentwatch.bench.peers.skab import run_skab
    from latentwatch.bench.peers.throughput import measure
    from pipelines.data import load_dataset

    cfg.check()
    t0 = time.perf_counter()
    missing = unavailable(cfg.peers)
    for name, why in missing.items():
        log(f"{name}: not run ({why})")
    runnable = [p for p in cfg.peers if p not in missing]
    auroc: list[dict[str, Any]] = []
    timed = None
    if cfg.datasets:
        auroc, timed = run_auroc(cfg, runnable, lambda n: load_dataset(n, cfg.data_dir), log)
    skab = run_skab(cfg, runnable, log) if cfg.skab_subsets else {}
    throughput, where = {}, ""
    if timed is not None:
        X = np.resize(timed.X, (cfg.throughput_rows, timed.X.shape[1]))  # a small test set repeats in order
        throughput = measure(timed.score, X, cfg.batch, cfg.rounds)
        n = cfg.throughput_rows // cfg.batch * cfg.batch
        where = f"{cfg.datasets[0]}'s first run: {n} windows from its {len(timed.X)} test rows, batch {cfg.batch}"
    return {
        "config": asdict(cfg),
        "unavailable": missing,
        "auroc": auroc,
        "skab": skab,
        "throughput": throughput,
        "throughput_data": where,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def write_svg(doc: dict[str, Any], path: str) -> None:
    from latentwatch.bench.peers.plot import auroc_svg
    from latentwatch.bench.peers.report import auroc_values, cells_of, methods_of

    methods = [
        (label, auroc_values(doc, key), ours)
        for key, label, ours in methods_of(doc)
        if key in doc["config"]["scorers"] or key in {r["method"] for r in doc["auroc"]}
    ]
    seeds = ",".join(str(s) for s in doc["config"]["seeds"])
    Path(path).write_text(auroc_svg(cells_of(doc), methods, f"AUROC by data set (ARES protocol, seeds {seeds})"))


def run(args: argparse.Namespace) -> int:
    import torch

    from latentwatch.bench.peers.report import format_report

    torch.set_num_threads(max(1, args.threads))
    try:
        doc = run_bench(config_from_args(args), lambda m: print(m, file=sys.stderr, flush=True))
    except ValueError as e:
        raise SystemExit(f"latentwatch bench peers: {e}") from e
    print(format_report(doc), flush=True)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(doc, indent=2))
    if args.svg and doc["auroc"]:
        write_svg(doc, args.svg)
    return 0
