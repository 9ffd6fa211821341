"""`latentwatch train --files ... | --topic ...`: read the user's windows, choose the split, fit, publish.

Windows that carry a ``ts`` (files with a ``ts`` column or array, every topic) are sorted by it and split in time:
the last ``val_fraction`` of the period validates and calibrates, after ``split_gap`` windows left out (0 unless the
spec sets it; set it to the window length minus one when consecutive windows overlap). Windows without one get the
seeded split. A spec that sets ``split`` keeps it.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from pipelines.data.tables import DataError
from pipelines.data.user_files import UserWindows, read_files
from pipelines.fit import TrainSpec, fit_artifact


def reason_table(skipped: Counter[str]) -> str:
    """The skipped messages as a two-column table, most frequent first."""
    rows = (
        [("reason", "skipped")]
        + [(r, str(n)) for r, n in skipped.most_common()]
        + [("total", str(sum(skipped.values())))]
    )
    w = max(len(r) for r, _ in rows)
    return "\n".join(f"{r:<{w}}  {n:>7}" for r, n in rows)


def _from_topic(args: argparse.Namespace) -> tuple[UserWindows, dict[str, Any]]:
    from daemon.config import load_config
    from daemon.config.root import Config
    from latentwatch.training.topic import parse_time, read_topic

    if not (args.start and args.end):
        raise ValueError("--topic needs --from and --to (ISO-8601 or epoch ms)")
    cfg = load_config(args.config) if args.config else Config()
    start, end = parse_time(args.start), parse_time(args.end)
    got = read_topic(cfg, args.topic, start, end, width=args.width)
    print(reason_table(got.skipped), file=sys.stderr)
    info = {
        "source": f"topic:{args.topic}",
        "input": {
            "topic": args.topic,
            "from_ms": start,
            "to_ms": end,
            "records": got.records,
            "skipped": dict(got.skipped),
        },
    }
    return got.windows, info


def _from_files(args: argparse.Namespace) -> tuple[UserWindows, dict[str, Any]]:
    show = sys.stderr.isatty()
    got = read_files(
        args.files,
        args.columns,
        wrap=lambda paths: tqdm(paths, desc="read", unit="file", disable=not show, leave=False),
    )
    return got, {"source": "files", "input": {"files": [str(Path(f)) for f in args.files]}}


def time_split(windows: UserWindows, spec: TrainSpec) -> tuple[UserWindows, TrainSpec]:
    """The windows in ``ts`` order and the spec with the split they get (see the module docstring)."""
    if windows.ts_ms is None:
        return windows, spec if spec.split is not None else replace(spec, split="seeded")
    order = np.argsort(windows.ts_ms, kind="stable")
    ordered = UserWindows(
        windows.X[order],
        windows.feature_names,
        None if windows.asset is None else windows.asset[order],
        windows.ts_ms[order],
    )
    return ordered, spec if spec.split is not None else replace(spec, split="time")


def train(args: argparse.Namespace, spec: TrainSpec) -> tuple[Path, dict[str, Any]] | int:
    """Fit and publish from --files or --topic; a bad input is one line on stderr and exit status 2."""
    from kafka.errors import KafkaError

    misplaced = [
        flag
        for flag, value, where in (
            ("--from", args.start, args.topic),
            ("--to", args.end, args.topic),
            ("--config", args.config, args.topic),
            ("--width", args.width, args.topic),
            ("--columns", args.columns, args.files),
        )
        if value and not where
    ]
    if misplaced:
        print(
            f"latentwatch train: {misplaced[0]} goes with --{'files' if misplaced[0] == '--columns' else 'topic'}",
            file=sys.stderr,
        )
        return 2
    try:
        windows, info = _from_topic(args) if args.topic else _from_files(args)
        names = list(args.feature_names) if args.feature_names else windows.feature_names
        if len(names) != windows.X.shape[1]:
            raise ValueError(f"--feature-names gives {len(names)} names for {windows.X.shape[1]} features")
        windows, spec = time_split(windows, spec)
        extra = {
            **info,
            "window": None,
            "normal_class": None,
            "feature_names": names,
            "windows": len(windows.X),
            "assets": None if windows.asset is None else sorted(set(windows.asset.tolist()))[:1000],
        }
        path = fit_artifact(
            windows.X,
            Path(args.out),
            spec,
            seed=args.seed,
            extra=extra,
            segments=[len(windows.X)] if spec.split == "time" else None,
        )
    except (DataError, ValueError, OSError, TimeoutError, KafkaError) as e:
        print(f"latentwatch train: {e}", file=sys.stderr)
        return 2
    return path, {"windows": len(windows.X), **({"skipped": info["input"]["skipped"]} if args.topic else {})}
