"""`latentwatch evaluate --choose-default MINMAX.json ZSCORE.json`: the swing table of two evaluation records (one per
input scaler) and the default scorer that the rule of pipelines/evaluate/default_rule.py picks from them;
`--choose-default docs/default-scorer.json` re-applies the rule to the committed summary."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from latentwatch.commands.evaluate_record import write_json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--choose-default",
        nargs="+",
        type=Path,
        metavar="JSON",
        help="run nothing: two evaluation records (--scaler minmax, then --scaler zscore) or one summary "
        "(docs/default-scorer.json); print every scorer's AUROC under both scalers, its swing, and the default "
        "that the stated rule picks (--markdown writes the table)",
    )
    p.add_argument(
        "--summary-out", type=Path, metavar="FILE", help="with --choose-default and two records: write the summary"
    )


def _table(rows: list[str], ranked: list[Any], markdown: bool) -> str:
    from pipelines.evaluate.default_rule import SWING_MAX_POINTS

    header = ["row (minmax / zscore / swing)", *(c.name for c in ranked)]
    body = [[r, *(f"{c.minmax[r]:.2f} / {c.zscore[r]:.2f} / {c.swing(r):.2f}" for c in ranked)] for r in rows]
    body.append(["largest swing", *(f"{c.max_swing:.2f}" for c in ranked)])
    body.append([f"mean over {2 * len(rows)} cells", *(f"{c.mean:.2f}" for c in ranked)])
    body.append([f"swing <= {SWING_MAX_POINTS:g} on every row", *("yes" if c.qualifies else "no" for c in ranked)])
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * len(ranked)) + "|"]
        return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in body)])
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def fmt(r: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))

    return "\n".join([fmt(header), "  ".join("-" * w for w in widths), *(fmt(r) for r in body)])


def choose_default(args: argparse.Namespace) -> int:
    from pipelines.evaluate.default_rule import RULE, choose, summarise

    paths: list[Path] = args.choose_default
    try:
        docs = [json.loads(p.read_text()) for p in paths]
        if len(paths) == 2:
            names = {"minmax": str(paths[0]), "zscore": str(paths[1])}
            summary = summarise({"minmax": docs[0], "zscore": docs[1]}, names)
        elif len(paths) == 1:
            summary = docs[0]
        else:
            raise ValueError(f"--choose-default takes two evaluation records or one summary, got {len(paths)} files")
        pick, ranked = choose(summary)
    except (OSError, ValueError) as e:
        print(f"latentwatch evaluate --choose-default: {e}", file=sys.stderr)
        return 1
    for scaler, src in summary.get("sources", {}).items():
        print(f"{scaler}: {src.get('command')} ({src.get('seconds')} s, commit {(src.get('git') or {}).get('commit')})")
    print(_table(summary["rows"], ranked, markdown=False))
    print(f"rule: {RULE}")
    if ranked[0].qualifies:
        print(f"default scorer: {pick}")
    else:
        from pipelines.fit import TrainSpec

        print(f"no scorer qualifies; the rule's fallback (the smallest largest swing): {pick}")
        spec = TrainSpec()
        print(
            f"not applied: TrainSpec's default is {spec.scorer!r} with input_norm {spec.input_norm!r}, the pick of "
            "docs/default-scorer.json (README, The default scorer)"
        )
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(_table(summary["rows"], ranked, markdown=True) + "\n")
    if args.summary_out is not None:
        if len(paths) != 2:
            print("latentwatch evaluate: --summary-out needs two evaluation records", file=sys.stderr)
            return 1
        write_json(args.summary_out, summary)
    return 0
