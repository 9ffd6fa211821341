"""`latentwatch evaluate`'s training variants and contaminated training (--variants, --contamination).

--variants trains one model per variant on each split (pipelines/model/variants.py; the table names their scorers
"<variant>:<scorer>"); --contamination runs the whole evaluation once per ratio c of anomalies mixed into training
and validation (pipelines/evaluate/contamination.py), each run's setting named "<setting> c=<c>"."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--variants",
        type=_csv,
        default=None,
        metavar="ae,lfr,lfr-b",
        help="training variants, one model each per split (default: ae); default scorers follow them",
    )
    p.add_argument(
        "--contamination",
        type=float,
        nargs="+",
        default=None,
        metavar="C",
        help="anomalies per normal mixed into training and validation, one evaluation per value (e.g. 0.1 0.3 0.5)",
    )


def canonical(args: argparse.Namespace) -> list[str]:
    parts: list[str] = []
    if args.variants is not None:
        parts += ["--variants", ",".join(args.variants)]
    if args.contamination is not None:
        parts += ["--contamination", *(f"{c:g}" for c in args.contamination)]
    return parts


def variants(args: argparse.Namespace) -> list[str]:
    return list(args.variants) if args.variants is not None else ["ae"]


def per_contamination(cfg: Any, args: argparse.Namespace) -> list[Any]:
    """One EvalConfig per contamination ratio asked (the config itself when none is)."""
    if args.contamination is None:
        return [cfg]
    return [replace(cfg, contamination=float(c)) for c in args.contamination]
