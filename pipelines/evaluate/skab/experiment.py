"""Choosing SKAB's settings without the test labels of the files reported: a grid on one subset (valve1).

`python -m pipelines.evaluate.skab.experiment --subsets valve1 --models '<json list>' --decisions '<json list>'`
prepares each model setting once (training, references, calibration, scores), then streams the cached scores
through every decision setting (thresholds, persistence, episodes), printing one line per combination sorted by
F1 among those at FAR <= --max-far. The diagnostic columns (per-file AUROC, the best single threshold on
calibration-normalised scores) read labels and are for understanding a score only, never for choosing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from pipelines.evaluate.skab.runner import Prepared, prepare, report, select_runs, stream_all
from pipelines.evaluate.skab.settings import SkabSettings


def score_quality(prepared: list[Prepared]) -> dict[str, float]:
    """Median per-file AUROC and, on scores divided by each asset's 0.99 calibration quantile, the pooled AUROC."""
    aucs, ys, zs = [], [], []
    for p in prepared:
        y = p.stream.anomaly != 0
        if y.any() and (~y).any():
            aucs.append(roc_auc_score(y, p.scores))
        ys.append(y)
        zs.append(p.scores / max(float(np.quantile(p.calibration, 0.99)), 1e-12))
    y, z = np.concatenate(ys), np.concatenate(zs)
    return {"auroc_file_median": float(np.median(aucs)), "auroc_pooled_normalised": float(roc_auc_score(y, z))}


def _expand(grid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each dict's list values are crossed: {"q": [1e-3, 1e-2], "m": 3} -> two settings."""
    out = []
    for g in grid:
        keys = list(g)
        vals = [v if isinstance(v, list) and k != "hidden" else [v] for k, v in g.items()]
        out += [dict(zip(keys, combo, strict=False)) for combo in itertools.product(*vals)]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--row", choices=("leaderboard", "deployment"), default="leaderboard")
    ap.add_argument("--subsets", default="valve1")
    ap.add_argument("--models", default="[{}]", help="JSON list of SkabSettings overrides that need new models")
    ap.add_argument("--decisions", default="[{}]", help="JSON list of overrides applied to cached scores")
    ap.add_argument("--flagged", choices=("alarmed", "episode"), default="alarmed")
    ap.add_argument("--max-far", type=float, default=100.0)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    runs = select_runs(args.data_dir, args.subsets.split(","))
    lines = []
    for mo in _expand(json.loads(args.models)):
        s0 = SkabSettings().with_(**mo)
        t0 = time.perf_counter()
        prepared = prepare(args.row, s0, runs, args.data_dir)
        q = score_quality(prepared)
        print(
            f"model {mo}: {time.perf_counter() - t0:.0f}s auroc file median {q['auroc_file_median']:.3f} "
            f"pooled-normalised {q['auroc_pooled_normalised']:.3f}",
            file=sys.stderr,
            flush=True,
        )
        for de in _expand(json.loads(args.decisions)):
            s = s0.with_(**de)
            r = report(stream_all(prepared, s), args.flagged)["pooled"]
            b, f = r["binary"], r["faults"]
            lines.append(
                (
                    b["far"] <= args.max_far,
                    b["f1"],
                    f"{b['f1']:.3f} FAR {b['far']:5.1f} MAR {b['mar']:5.1f} "
                    f"NAB {r['nab']['standard']:5.1f} det {f['detected']}/{f['of']} "
                    f"fe/1k {f['false_episodes_per_1000_normal']:.2f} | {mo} {de}",
                )
            )
    lines.sort(key=lambda t: (t[0], t[1]), reverse=True)
    for _, _, text in lines[: args.top]:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
