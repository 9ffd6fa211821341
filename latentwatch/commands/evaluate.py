"""`latentwatch evaluate`: the ARES evaluation protocol on the real data sets (docs/evaluation.md).

Per (data set, arrangement, seed): a 50:50 test split, one autoencoder on the training normals, every scorer and
baseline on the same test rows. Prints the AUROC x100 table, writes the JSON record (--out) and optionally the
markdown table (--markdown).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from latentwatch.commands import (
    evaluate_default,
    evaluate_inputs,
    evaluate_params,
    evaluate_scorer_params,
    evaluate_variants,
)
from latentwatch.commands.evaluate_record import REPO, environment, write_json

DEFAULT_DATASETS = ("mi-f", "mi-v", "eopt", "snsr", "nasa", "stl")


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _seeds(value: str) -> list[int]:
    """'3' -> seeds 0,1,2; '0,5,7' -> those seeds."""
    try:
        if "," not in value:
            n = int(value)
            if n < 1:
                raise ValueError
            return list(range(n))
        seeds = [int(v) for v in _csv(value)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seeds wants a count >= 1 (3 = seeds 0,1,2) or a list (0,5,7; one seed alone: '4,'), got {value!r}"
        ) from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"--seeds: need distinct seeds, got {value!r}")
    return seeds


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--datasets",
        type=_csv,
        default=list(DEFAULT_DATASETS),
        metavar="A,B",
        help=f"data sets, comma-separated (default: {','.join(DEFAULT_DATASETS)})",
    )
    p.add_argument(
        "--seeds",
        type=_seeds,
        default=[0, 1, 2],
        metavar="N|S1,S2",
        help="number of seeds (0..N-1) or an explicit list (default: 3)",
    )
    p.add_argument(
        "--scorers",
        type=_csv,
        default=None,
        metavar="A,B",
        help="autoencoder scorers (default: every registered scorer the --variants can run)",
    )
    p.add_argument(
        "--baselines",
        type=_csv,
        default=None,
        metavar="A,B",
        help="input-space baselines: lof,iforest,pca,ocsvm (default: all; 'none' for none)",
    )
    p.add_argument("--epochs", type=int, default=None, help="cap training epochs (smoke runs; the protocol is 350)")
    p.add_argument(
        "--max-classes",
        type=int,
        default=None,
        help="multi-class data sets: use only the first N classes as arrangements (smoke runs)",
    )
    p.add_argument(
        "--settings",
        type=_csv,
        default=None,
        metavar="unimodal,multimodal",
        help="multi-class settings to run (default: both)",
    )
    evaluate_inputs.add_arguments(p)
    p.add_argument(
        "--no-overrides",
        action="store_true",
        help="ignore the per-data-set overrides of pipelines/evaluate/settings.py",
    )
    p.add_argument(
        "--ocsvm-max-train",
        type=int,
        default=None,
        help="OC-SVM trains on at most this many (seeded random) training rows (default: 10000)",
    )
    p.add_argument(
        "--data-dir", default=None, help="the shared data folder (default: $LATENTWATCH_DATA_DIR or ../shared/data)"
    )
    p.add_argument("--out", type=Path, default=Path("out/evaluation.json"), help="JSON record (default: %(default)s)")
    p.add_argument("--markdown", type=Path, default=None, metavar="FILE", help="also write the table as markdown")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1; the models are small)")
    p.add_argument(
        "--table-from",
        type=Path,
        default=None,
        metavar="JSON",
        help="run nothing: print the table of an existing JSON record (and write --markdown)",
    )
    p.add_argument("--quiet", action="store_true", help="no per-run progress lines; the final table still prints")
    evaluate_default.add_arguments(p)  # --choose-default, --summary-out
    p.add_argument(
        "--protocol",
        choices=("ares", "skab"),
        default="ares",
        help="ares: the AUROC protocol above (default); skab: SKAB's leaderboard protocol through the "
        "daemon's decision path (docs/evaluation.md, SKAB section)",
    )
    p.add_argument(
        "--skab-rows",
        type=_csv,
        default=["leaderboard", "deployment"],
        metavar="A,B",
        help="skab: leaderboard = (a) a model per file; deployment = (b) one anomaly-free model",
    )
    p.add_argument(
        "--skab-subsets",
        type=_csv,
        default=["valve1", "valve2", "other"],
        metavar="A,B",
        help="skab: the subsets streamed (default: all three)",
    )
    p.add_argument("--skab-seed", type=int, default=0, help="skab: the seed of every model (default: %(default)s)")
    evaluate_variants.add_arguments(p)
    evaluate_params.add_arguments(p)
    evaluate_scorer_params.add_arguments(p)
    p.add_argument(
        "--skab-whole-files",
        action="store_true",
        help="skab: decide and count every row of each file, the fit rows scored in-sample, as SKAB's "
        "own notebooks do (the leaderboard's FAR counts them); default: test rows only",
    )


def canonical_line(args: argparse.Namespace) -> str:
    """The command line that reruns this evaluation, rebuilt from the parsed options (defaults spelled out).

    Seeds are always written as a list; one seed gets a trailing comma ('--seeds 0,'), since a bare number is a
    count."""
    parts = [
        "latentwatch",
        "evaluate",
        "--datasets",
        ",".join(args.datasets),
        "--seeds",
        ",".join(str(s) for s in args.seeds) + ("," if len(args.seeds) == 1 else ""),
    ]
    for opt, val in (("--scorers", args.scorers), ("--baselines", args.baselines), ("--settings", args.settings)):
        if val is not None:
            parts += [opt, ",".join(val)]
    parts += evaluate_inputs.canonical(args)
    parts += evaluate_variants.canonical(args) + evaluate_params.canonical(args.variant_params)
    parts += evaluate_scorer_params.canonical(args.scorer_params)
    if args.no_overrides:
        parts.append("--no-overrides")
    for opt, val in (
        ("--epochs", args.epochs),
        ("--max-classes", args.max_classes),
        ("--ocsvm-max-train", args.ocsvm_max_train),
        ("--data-dir", args.data_dir),
    ):
        if val is not None:
            parts += [opt, str(val)]
    parts += ["--out", str(args.out)]
    if args.markdown:
        parts += ["--markdown", str(args.markdown)]
    if args.threads != 1:
        parts += ["--threads", str(args.threads)]
    return shlex.join(parts)


def _table_from(args: argparse.Namespace) -> int:
    from pipelines.evaluate.report import render_markdown, render_text

    try:
        doc = json.loads(args.table_from.read_text())
        aggregates = doc["aggregates"]
        methods = doc.get("table", {}).get("columns") or list(dict.fromkeys(a["method"] for a in aggregates))
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"latentwatch evaluate: cannot read an evaluation record from {args.table_from}: {e}", file=sys.stderr)
        return 1
    print(
        f"{args.table_from}: {doc.get('status')}, {len(doc.get('runs', []))} runs; command: "
        f"{doc.get('command', {}).get('line')}"
    )
    print(render_text(aggregates, methods))
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(render_markdown(aggregates, methods) + "\n")
    return 0


def _unknown(args: argparse.Namespace, scorers: list[str], baselines: list[str]) -> list[str]:
    """What is wrong with the names and sizes asked for (empty: nothing)."""
    from pipelines.data import DATASETS
    from pipelines.evaluate.baselines import BASELINES
    from pipelines.scorers import REGISTRY

    errors = [f"unknown data set {d!r}" for d in args.datasets if d not in DATASETS]
    errors += [f"unknown scorer {s!r}" for s in scorers if s not in REGISTRY]
    errors += [f"unknown baseline {b!r}" for b in baselines if b not in BASELINES]
    errors += [f"unknown setting {s!r}" for s in (args.settings or []) if s not in ("unimodal", "multimodal")]
    if args.epochs is not None and args.epochs < 1:
        errors.append("--epochs must be >= 1")
    if args.max_classes is not None and args.max_classes < 1:
        errors.append("--max-classes must be >= 1")
    if not scorers and not baselines:
        errors.append("nothing to evaluate: no scorers and no baselines")
    return errors


def _record(args: argparse.Namespace, cfg: Any) -> dict[str, Any]:
    """The JSON record before the first run: the command, the code, the environment and the whole protocol."""
    from pipelines.evaluate.protocol import VAL_FRACTION
    from pipelines.evaluate.report import SCHEMA_VERSION, git_info
    from pipelines.evaluate.settings import OVERRIDES, PROTOCOL_NOTES
    from pipelines.scorers import make_scorer

    return {
        "schema_version": SCHEMA_VERSION,
        "status": "running",
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "finished_utc": None,
        "seconds": None,
        "command": {"line": canonical_line(args), "argv": list(sys.argv), "cwd": os.getcwd()},
        "git": git_info(REPO),
        "environment": environment(max(1, args.threads)),
        "protocol": {
            "datasets": list(cfg.datasets),
            "seeds": list(cfg.seeds),
            "settings": {"single": ["labels"], "multi": list(cfg.settings or ("unimodal", "multimodal"))},
            "max_classes": cfg.max_classes,
            "split": {
                "test": "n_test = min(#anomalies, floor(#normals / 2)) of each, drawn without replacement; "
                "exactly 50:50",
                "train_val": "remaining normals shuffled, round(0.2 * n) validation, the rest training; "
                "anomalies never in training or validation",
                "val_fraction": VAL_FRACTION,
                "rng": "numpy default_rng([seed, crc32('<data set>/<setting>[/<class>]')])",
            },
            "train_spec": {**cfg.spec.to_dict(), **({"epochs": cfg.epochs} if cfg.epochs else {})},
            "scaler": cfg.scaler,
            "input_norm": cfg.spec.input_norm,
            "reference": cfg.reference,
            "overrides": {d: o for d, o in OVERRIDES.items() if d in cfg.datasets} if cfg.overrides else {},
            "scorers": {s: make_scorer(s, **cfg.scorer_params.get(s, {})).params() for s in cfg.scorers},
            "baselines": list(cfg.baselines),
            "variants": list(cfg.variants),
            "variant_params": cfg.variant_params,
            "contamination": args.contamination,
            "ocsvm_max_train": cfg.ocsvm_max_train,
            "aggregation": "mean and population std (ddof=0) over all runs of a (data set, setting, method) cell: "
            "seeds x classes; std_seed: std over seeds of the per-seed mean over classes",
            "notes": PROTOCOL_NOTES,
        },
        "runs": [],
        "aggregates": [],
    }


def _progress(i: int, n: int, seconds: float, arr: Any, seed: int, rec: dict[str, Any]) -> str:
    m = rec["model"]
    aucs = " ".join(f"{k}={100 * v['auroc']:.1f}" for k, v in rec["methods"].items())
    cls = "" if arr.cls is None else f" class {arr.cls} ({arr.cls_name})"
    return (
        f"[{i + 1}/{n} {seconds:.0f}s] {arr.dataset} {arr.setting}{cls} seed {seed}: "
        f"{m['epochs_run']} epochs {m['train_seconds']:.0f}s | {aucs}"
    )


def run(args: argparse.Namespace) -> int:
    if args.protocol == "skab":
        from latentwatch.commands.evaluate_skab import run_skab

        return run_skab(args)
    if args.table_from is not None:
        return _table_from(args)
    if args.choose_default:
        return evaluate_default.choose_default(args)
    from dataclasses import replace

    import torch

    from pipelines.data import DATASETS, DataError, load_dataset
    from pipelines.evaluate.baselines import BASELINES, OCSVM_MAX_TRAIN
    from pipelines.evaluate.report import render_markdown, render_text
    from pipelines.evaluate.runner import EvalConfig, aggregate, plan, run_one
    from pipelines.evaluate.settings import DEFAULT_REFERENCE, DEFAULT_SCALER, DEFAULT_SPEC, scorers_for
    from pipelines.scorers import REGISTRY

    variants = evaluate_variants.variants(args)
    scorers = list(scorers_for(variants)) if args.scorers is None else args.scorers
    baselines = list(BASELINES) if args.baselines is None else ([] if args.baselines == ["none"] else args.baselines)
    errors = _unknown(args, scorers, baselines)
    variant_params = evaluate_params.resolve_or_report(args.variant_params, variants, errors)
    scorer_params = evaluate_scorer_params.resolve_or_report(args.scorer_params, scorers, errors)
    if errors:
        for e in errors:
            print(f"latentwatch evaluate: {e}", file=sys.stderr)
        print(
            f"  data sets: {', '.join(DATASETS)}; scorers: {', '.join(REGISTRY)}; baselines: {', '.join(BASELINES)}",
            file=sys.stderr,
        )
        return 2

    torch.set_num_threads(max(1, args.threads))
    cfg = EvalConfig(
        datasets=args.datasets,
        seeds=args.seeds,
        scorers=scorers,
        baselines=baselines,
        spec=replace(DEFAULT_SPEC, input_norm=args.input_norm or DEFAULT_SPEC.input_norm),
        scaler=args.scaler or DEFAULT_SCALER,
        reference=args.reference or DEFAULT_REFERENCE,
        overrides=not args.no_overrides,
        epochs=args.epochs,
        max_classes=args.max_classes,
        settings=args.settings,
        ocsvm_max_train=args.ocsvm_max_train or OCSVM_MAX_TRAIN,
        data_dir=args.data_dir,
        variants=variants,
        variant_params=variant_params,
        scorer_params=scorer_params,
    )
    try:
        jobs = [
            (c, *job)
            for c in evaluate_variants.per_contamination(cfg, args)
            for job in plan(c, lambda name: load_dataset(name, args.data_dir))
        ]
    except (DataError, KeyError, ValueError) as e:
        print(f"latentwatch evaluate: {e}", file=sys.stderr)
        return 1

    doc = _record(args, cfg)
    if not args.quiet:
        print(
            f"latentwatch evaluate: {len(jobs)} runs ({', '.join(cfg.datasets)}; seeds {list(cfg.seeds)}); "
            f"JSON -> {args.out}",
            file=sys.stderr,
            flush=True,
        )
    t0 = time.perf_counter()
    for i, (job_cfg, ds, arr, seed) in enumerate(jobs):
        rec = run_one(ds.X, ds.y, arr, seed, job_cfg)
        doc["runs"].append(rec)
        doc["aggregates"] = aggregate(doc["runs"])
        doc["seconds"] = round(time.perf_counter() - t0, 1)
        write_json(args.out, doc)
        if not args.quiet:
            print(_progress(i, len(jobs), doc["seconds"], arr, seed, rec), file=sys.stderr, flush=True)

    methods = [*baselines, *dict.fromkeys(m for r in doc["runs"] for m in r["methods"] if m not in baselines)]
    doc["status"] = "complete"
    doc["finished_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    text = render_text(doc["aggregates"], methods)
    md = render_markdown(doc["aggregates"], methods)
    doc["table"] = {"metric": "auroc", "scale": 100, "columns": methods, "markdown": md}
    write_json(args.out, doc)
    print(f"AUROC x100, mean±std over {len(cfg.seeds)} seed(s) (x classes for multi-class settings); * = best in row")
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(md + "\n")
    if not args.quiet:
        print(
            f"wrote {args.out}" + (f" and {args.markdown}" if args.markdown else "") + f" in {doc['seconds']:.0f}s",
            file=sys.stderr,
        )
    return 0
