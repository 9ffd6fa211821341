"""`latentwatch evaluate --protocol skab`: SKAB's leaderboard protocol on the daemon's own decisions
(``pipelines/evaluate/skab/``; docs/evaluation.md, SKAB section)."""

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

    from pipelines.evaluate.report import git_info
    from pipelines.evaluate.skab.report import PROTOCOL, render, run_rows, write_markdown
    from pipelines.evaluate.skab.runner import ROWS
    from pipelines.evaluate.skab.settings import SkabSettings

    unknown = [r for r in args.skab_rows if r not in ROWS]
    if unknown:
        print(f"latentwatch evaluate: unknown --skab-rows {unknown}; choose from {list(ROWS)}", file=sys.stderr)
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
        + (["--skab-whole-files"] if args.skab_whole_files else [])
        + (["--skab-seed", str(args.skab_seed)] if args.skab_seed else [])
        + (["--markdown", str(args.markdown)] if args.markdown else [])
    )
    t0 = time.perf_counter()
    say = None if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    try:
        settings = SkabSettings().with_(seed=args.skab_seed)
        rows = run_rows(args.skab_rows, settings, args.skab_subsets, args.data_dir, say, args.skab_whole_files)
    except ValueError as e:
        print(f"latentwatch evaluate: {e}", file=sys.stderr)
        return 2
    text = render(rows, args.data_dir)
    write_json(
        out,
        {
            "command": {"line": line, "argv": list(sys.argv)},
            "git": git_info(REPO),
            "environment": environment(max(1, args.threads)),
            "protocol": {**PROTOCOL, "whole_files": args.skab_whole_files},
            "settings": settings.to_dict(),
            "seconds": round(time.perf_counter() - t0, 1),
            "rows": rows,
            "markdown": text,
        },
    )
    print(text)
    if args.markdown:
        write_markdown(args.markdown, text)
    print(f"wrote {out} in {time.perf_counter() - t0:.0f}s; command: {line}", file=sys.stderr)
    return 0
