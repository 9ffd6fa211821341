"""`latentwatch bench <name>`: benchmarks that print their numbers; every number is rerunnable from this command.

Each benchmark is a module with ``add_arguments(parser)`` and ``run(args) -> int``; add one with a line in BENCHES.
A benchmark whose module cannot be imported (a missing optional extra) is listed with the reason and refuses to
run; the others still work.
"""

from __future__ import annotations

import argparse
import importlib

# name -> (module with add_arguments/run, one-line help)
BENCHES: dict[str, tuple[str, str]] = {
    "scoring": (
        "latentwatch.bench.scoring",
        "windows/s of every scorer on 20k/100k/1M references vs the raw Annoy loop and PyOD, with recall",
    ),
    "thresholds": (
        "latentwatch.bench.thresholds",
        "SPOT/DSPOT: CPU per window by refit policy, and false alarms on held-out real normal windows",
    ),
    "explain": (
        "latentwatch.bench.explain",
        "how often an alert's first sensor is the one with an injected fault (real SKAB normal data)",
    ),
    "assets": (
        "latentwatch.bench.assets",
        "per-asset references at fleet scale (10,000 x 500): memory, load time, scoring rate vs global only",
    ),
    "state": (
        "latentwatch.bench.state",
        "per-asset state at 100,000 assets: RSS live and spilled, checkpoint size and write time, restore",
    ),
    "refresh": (
        "latentwatch.bench.refresh",
        "the refresh's rebuild time and peak RSS at 100k/1M windows from a real topic, and the swap pause",
    ),
    "drift": (
        "latentwatch.bench.drift",
        "the drift detectors' cost per window (ADWIN, Page-Hinkley; by assets per batch and drift.every)",
    ),
    "e2e": ("latentwatch.bench.e2e", "the daemon end to end through the real broker, next to a bare Kafka consumer"),
    "peers": (
        "latentwatch.bench.peers",
        "latentwatch vs River, PySAD, PyOD and streamad: AUROC (ARES protocol), SKAB F1/FAR/MAR, windows/s",
    ),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="bench", required=True)
    for name, (module, help_text) in BENCHES.items():
        try:
            mod = importlib.import_module(module)
        except ImportError as e:
            p = sub.add_parser(name, help=f"{help_text} [unavailable: {e}]", description=help_text)
            p.set_defaults(bench_unavailable=f"{module}: {e}")
            continue
        p = sub.add_parser(name, help=help_text, description=help_text)
        mod.add_arguments(p)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "bench_unavailable", None):
        raise SystemExit(f"latentwatch bench {args.bench}: cannot import {args.bench_unavailable}")
    module, _ = BENCHES[args.bench]
    return int(importlib.import_module(module).run(args) or 0)
