"""`latentwatch train`: fit scaler + autoencoder on normal windows, build the reference, calibrate, publish.

The windows come from a bundled data set (``--source``), the user's files (``--files``: CSV, Parquet, .npy, .npz;
pipelines/data/user_files.py) or a time range of a Kafka topic in the daemon's format (``--topic``;
latentwatch/training/topic.py). Windows with a ``ts`` are split in time: after sorting by ``ts``, the last
``val_fraction`` of the period validates (calibrates); without one, the split is seeded."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import yaml

from latentwatch.training import user_data
from pipelines.fit import TrainSpec, fit_artifact, split_for_source
from pipelines.sources import SOURCES, TIME_SERIES, WindowSpec, feature_names, normal_window_parts, normal_windows


def load_spec(path: str | None, **overrides) -> TrainSpec:
    """TrainSpec from a YAML file (unknown keys are an error naming the key and the file) plus CLI overrides."""
    fields = {f.name for f in dataclasses.fields(TrainSpec)}
    values: dict = {}
    if path:
        doc = yaml.safe_load(Path(path).read_text()) or {}
        if not isinstance(doc, dict):
            raise ValueError(f"{path}: expected a mapping of training settings, got {type(doc).__name__}")
        for key in doc:
            if key not in fields:
                raise ValueError(f"{path}: unknown training setting {key!r}; known: {sorted(fields)}")
        values.update(doc)
    values.update({k: v for k, v in overrides.items() if v is not None})
    if "hidden" in values:
        values["hidden"] = tuple(values["hidden"])
    try:
        return TrainSpec(**values)
    except ValueError as e:
        raise ValueError(f"{path}: {e}" if path else str(e)) from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    given = p.add_mutually_exclusive_group(required=True)
    given.add_argument("--source", choices=SOURCES, help="bundled data set whose normal windows train the model")
    given.add_argument(
        "--files",
        nargs="+",
        metavar="PATH",
        help="your windows, one per row: .csv/.parquet (asset, ts, value columns), .npy, .npz",
    )
    given.add_argument("--topic", help="a topic in the daemon's message format; with --from, --to and --config")
    p.add_argument("--from", dest="start", help="--topic: start of the range (ISO-8601 or epoch ms; naive = UTC)")
    p.add_argument("--to", dest="end", help="--topic: end of the range, exclusive")
    p.add_argument("--config", help="--topic: the daemon's config (kafka section: brokers, security; input bounds)")
    p.add_argument("--width", type=int, help="--topic: values per window (default: the most common in the range)")
    p.add_argument("--columns", nargs="+", help="--files: the value columns (default: all but asset and ts)")
    p.add_argument("--feature-names", nargs="+", help="--topic, .npy/.npz: names of the features (default x0, x1..)")
    p.add_argument("--out", default="var/artifacts", help="artifact root (versions/ and current.json)")
    p.add_argument("--spec", help="YAML file with TrainSpec settings (hidden, latent, epochs, scorer, ...)")
    p.add_argument("--data-dir", help="shared data folder (default: $LATENTWATCH_DATA_DIR or ../shared/data)")
    p.add_argument("--normal-class", type=int, default=0, help="for multi-class sets: the class taken as normal")
    p.add_argument("--window", type=int, default=10, help="SKAB: window length in rows")
    p.add_argument("--stride", type=int, default=1, help="SKAB: rows between window starts")
    p.add_argument("--mode", default="summary", choices=("summary", "flatten"), help="SKAB: window vector")
    p.add_argument("--epochs", type=int)
    p.add_argument("--scorer")
    p.add_argument(
        "--scaler",
        choices=("zscore", "minmax"),
        help="input scaling fitted on the training windows (default: zscore; the evaluation uses minmax)",
    )
    p.add_argument(
        "--input-norm",
        choices=("range", "scaler"),
        help="scaler (default, the papers' setup): the scaler's output straight into the model; range: rescaled to "
        "its training range, so the model does not depend on --scaler",
    )
    p.add_argument(
        "--no-reference-dedup",
        dest="reference_dedup",
        action="store_const",
        const=False,
        default=None,
        help="one reference item per training window instead of collapsing identical windows into "
        "one counted item (the same scores, a larger index; the evaluation's default)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--skab-deployment",
        action="store_true",
        help="with --source skab: the SKAB evaluation's row (b), as the demo trains it: a model of the "
        "anomaly-free run with its window choice (10 rows, flatten), scorer and settings "
        "(pipelines/evaluate/skab/settings.py), and each labelled run's own scaler, reference and "
        "calibration from its first 400 rows; --window/--mode/--scorer/--spec do not apply",
    )


def run(args: argparse.Namespace) -> int:
    if args.skab_deployment:
        return skab_deployment(args)
    spec = load_spec(
        args.spec,
        epochs=args.epochs,
        scorer=args.scorer,
        scaler=args.scaler,
        input_norm=args.input_norm,
        reference_dedup=args.reference_dedup,
    )
    if args.source is None:
        got = user_data.train(args, spec)
        return got if isinstance(got, int) else report(got[0], **got[1])
    window = WindowSpec(args.window, args.stride, args.mode)
    spec = split_for_source(spec, args.source, window.length)
    if args.source in TIME_SERIES:
        parts = normal_window_parts(args.source, args.data_dir, window)
        X, segments = np.vstack(parts), [len(p) for p in parts]
    else:
        X, segments = normal_windows(args.source, args.data_dir, window, args.normal_class), None
    extra = {
        "source": args.source,
        "window": window.to_dict() if args.source == "skab" else None,
        "normal_class": args.normal_class,
        "feature_names": feature_names(args.source, window, args.data_dir),
    }
    path = fit_artifact(X, Path(args.out), spec, seed=args.seed, extra=extra, segments=segments)
    return report(path)


def report(path: Path, **more: object) -> int:
    manifest = json.loads((path / "manifest.json").read_text())
    print(json.dumps({"artifact": str(path), "version": manifest["version"], "metrics": manifest["metrics"], **more}))
    return 0


def skab_deployment(args: argparse.Namespace) -> int:
    """Row (b) of `latentwatch evaluate --protocol skab`, published under --out (``latentwatch.demo.model``)."""
    if args.source != "skab":
        print("latentwatch train: --skab-deployment needs --source skab", file=sys.stderr)
        return 2
    from latentwatch.demo.model import train_artifact

    trained = train_artifact(Path(args.out), args, "latentwatch train --skab-deployment")
    return report(Path(trained["path"]))
