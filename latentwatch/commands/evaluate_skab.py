"""`latentwatch evaluate --protocol skab`: SKAB's leaderboard protocol on the daemon's own decisions
(``pipelines/evaluate/skab/``; docs/evaluation.md, SKAB section). ``--variants`` / ``--scorers`` /
``--variant-params`` choose the methods (pipelines/evaluate/skab/runner.py ``methods``): by default the settings'
own (recon on the plain autoencoder); each other variant with the scorers made for it."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from latentwatch.commands.evaluate_record import REPO, environment, write_json


def run_skab(args: argparse.Namespace) -> int:
    """SKAB's protocol with the settings of pipelines/evaluate/skab/settings.py (chosen on valve1 only)."""
    import torch

    from latentwatch.commands import evaluate_params, evaluate_scorer_params
    from pipelines.evaluate.report import git_info
    from pipelines.evaluate.skab.report import PROTOCOL, render, run_methods, write_markdown
    from pipelines.evaluate.skab.runner import ROWS, methods
    from pipelines.evaluate.skab.settings import SkabSettings

    unknown = [r for r in args.skab_rows if r not in ROWS]
    if unknown:
        print(f"latentwatch evaluate: unknown --skab-rows {unknown}; choose from {list(ROWS)}", file=sys.stderr)
        return 2
    variants = list(args.variants) if args.variants is not None else ["ae"]
    settings = SkabSettings().with_(seed=args.skab_seed)
    try:
        params = evaluate_params.resolve(args.variant_params, variants)
        chosen = methods(settings, variants, args.scorers, params)
        if args.scorer_params:
            sparams = evaluate_scorer_params.resolve(args.scorer_params, [m.scorer for m in chosen])
            chosen = methods(settings, variants, args.scorers, params, sparams)
    except ValueError as e:
        print(f"latentwatch evaluate: {e}", file=sys.stderr)
        return 2
    torch.set_num_threads(max(1, args.threads))
    out = Path("out/skab.json") if args.out == Path("out/evaluation.json") else args.out
    line = shlex.join(
        [
            "latentwatch",
            "evaluate",
            "--protocol",
            "skab",
            "--skab-rows",
            ",".join(args.skab_rows),
            "--skab-subsets",
            ",".join(args.skab_subsets),
            "--out",
            str(out),
        ]
        + (["--variants", ",".join(args.variants)] if args.variants is not None else [])
        + (["--scorers", ",".join(args.scorers)] if args.scorers is not None else [])
        + evaluate_params.canonical(args.variant_params)
        + evaluate_scorer_params.canonical(args.scorer_params)
        + (["--skab-whole-files"] if args.skab_whole_files else [])
        + (["--skab-seed", str(args.skab_seed)] if args.skab_seed else [])
        + (["--markdown", str(args.markdown)] if args.markdown else [])
    )
    t0 = time.perf_counter()
    say = None if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    try:
        by_method = run_methods(args.skab_rows, chosen, args.skab_subsets, args.data_dir, say, args.skab_whole_files)
    except ValueError as e:
        print(f"latentwatch evaluate: {e}", file=sys.stderr)
        return 2
    text = render(by_method, args.data_dir)
    write_json(
        out,
        {
            "command": {"line": line, "argv": list(sys.argv)},
            "git": git_info(REPO),
            "environment": environment(max(1, args.threads)),
            "protocol": {**PROTOCOL, "whole_files": args.skab_whole_files},
            "settings": settings.to_dict(),
            "seconds": round(time.perf_counter() - t0, 1),
            "rows": by_method[chosen[0].label()],  # the first method's (the settings' own by default)
            "methods": {m.label(): {"settings": m.to_dict(), "rows": by_method[m.label()]} for m in chosen},
            "markdown": text,
        },
    )
    print(text)
    if args.markdown:
        write_markdown(args.markdown, text)
    print(f"wrote {out} in {time.perf_counter() - t0:.0f}s; command: {line}", file=sys.stderr)
    return 0
