"""`latentwatch assets add`: publish a new artifact version with each asset's own reference and calibration scores,
built from its normal windows with the current model (no retraining)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from pipelines.artifact.store import resolve_current
from pipelines.sources import SOURCES, WindowSpec


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="build per-asset references from each asset's first rows and publish them")
    add.add_argument("--artifact-root", default="var/artifacts", help="artifact root (versions/ and current.json)")
    add.add_argument("--base", help="version directory to start from (default: the one current points to)")
    add.add_argument("--source", required=True, choices=SOURCES, help="data set whose streams give each asset's normal")
    add.add_argument("--data-dir", help="shared data folder (default: $LATENTWATCH_DATA_DIR or ../shared/data)")
    add.add_argument(
        "--first-rows",
        type=int,
        default=400,
        help="SKAB: windows ending within each run's first N rows; tabular: each group's first N "
        "windows labelled normal (default 400, SKAB's protocol)",
    )
    add.add_argument(
        "--key-pattern",
        help="regular expression: assets whose names start with the same match share "
        "one reference (e.g. '^skab/[^/]+' for one per SKAB folder)",
    )
    add.add_argument(
        "--shards", type=int, help="shard count = the input topic's partition count (default: the base's, else 64)"
    )
    add.add_argument(
        "--calibration",
        choices=("crossfit", "split"),
        default="crossfit",
        help="how each asset's calibration scores avoid their own reference (default crossfit)",
    )
    add.add_argument("--folds", type=int, default=5, help="crossfit folds, in time order (default 5)")
    add.add_argument("--gap", type=int, help="windows left out next to each held fold (default: window length - 1)")
    add.add_argument(
        "--own-scaler",
        action="store_true",
        help="each asset reads its windows through an input scaler fitted on its own normal windows "
        "(assets far from the training data's range, e.g. SKAB's valve runs)",
    )
    add.add_argument("--replace-all", action="store_true", help="drop the base's per-asset references first")
    add.add_argument("--no-current", action="store_true", help="publish without moving the current pointer")


def run(args: argparse.Namespace) -> int:
    from pipelines.asset_normals import head_windows, publish_asset_normals

    root = Path(args.artifact_root)
    base = Path(args.base) if args.base else resolve_current(root)
    manifest = json.loads((base / "manifest.json").read_text())
    window = WindowSpec(**manifest["window"]) if manifest.get("window") else WindowSpec()
    gap = args.gap if args.gap is not None else (window.length - 1 if args.source == "skab" else 0)
    t0 = time.perf_counter()
    windows = head_windows(args.source, args.data_dir, window, args.first_rows)
    path = publish_asset_normals(
        root,
        base,
        windows,
        key_pattern=args.key_pattern,
        shards=args.shards,
        replace_all=args.replace_all,
        make_current=not args.no_current,
        calibration=args.calibration,
        folds=args.folds,
        gap=gap,
        own_scaler=args.own_scaler,
        fields={
            "asset_normals": {
                "source": args.source,
                "first_rows": args.first_rows,
                "calibration": args.calibration,
                "folds": args.folds,
                "gap": gap,
                "own_scaler": args.own_scaler,
            }
        },
    )
    out = json.loads((path / "manifest.json").read_text())
    print(
        json.dumps(
            {
                "artifact": str(path),
                "version": out["version"],
                "base_version": out["base_version"],
                "assets": out["assets"],
                "windows": int(sum(len(x) for x in windows.values())),
                "seconds": round(time.perf_counter() - t0, 2),
            }
        )
    )
    return 0
