"""`latentwatch bench refresh`: the refresh's rebuild time and peak memory at 100k and 1M windows read off a real
topic (``rebuild.py``), and the daemon's longest pause around a swap under load (``swap.py``, when present)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

COLUMNS = (
    "windows",
    "read_s",
    "score_current_s",
    "rebuild_s",
    "validate_s",
    "publish_s",
    "total_s",
    "cpu_s",
    "peak_rss_mb",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--windows", type=int, nargs="+", default=[20_000], help="sizes (e.g. 100000 1000000)")
    p.add_argument(
        "--bootstrap",
        default=f"127.0.0.1:{os.environ.get('LATENTWATCH_KAFKA_PORT', '19092')}",
        help="the broker (default: the local one of scripts/kafka.sh)",
    )
    p.add_argument("--skip-swap", action="store_true", help="leave out the swap-pause measurement")
    p.add_argument("--model", help="an artifact root to refresh (default: train one on SKAB's anomaly-free run)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON lines as well")


def table(rows: list[dict[str, Any]]) -> str:
    lines = [COLUMNS] + [tuple(str(r.get(c, "-")) for c in COLUMNS) for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in lines)


def run(args: argparse.Namespace) -> int:
    from latentwatch.bench.refresh.rebuild import measure_rebuild, train_model

    rows = []
    with tempfile.TemporaryDirectory(prefix="lw-bench-refresh-") as tmp:
        root = Path(tmp) / "artifacts"
        if args.model:
            shutil.copytree(args.model, root)
        base = train_model(root, trained=bool(args.model))
        for n in args.windows:
            row = measure_rebuild(n, args.bootstrap, root, base, base.shape[1])
            rows.append(row)
            if args.json:
                print(json.dumps(row), flush=True)
    print(
        f"refresh rebuild (goal: 1M windows <= 300 s on 2 cores, peak RSS <= 2048 MB), cores: {os.cpu_count()}; "
        "cpu_s: the refresh's CPU seconds (user + system), the wall time on a machine it has to itself"
    )
    print(table(rows))
    if not args.skip_swap:
        try:
            from latentwatch.bench.refresh.swap import measure_swap_pause  # helper H5's
        except ImportError as e:
            print(f"swap pause: not measured ({e})")
        else:
            port = int(args.bootstrap.rsplit(":", 1)[1])
            print("swap pause:", json.dumps(measure_swap_pause(windows=max(args.windows), port=port)))
    return 0
