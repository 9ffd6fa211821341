"""`latentwatch config reference`: every config key as Markdown (``daemon.config.reference``), printed, or written
into a file between its markers (``--write README.md``), or checked there (``--check``: exit 1 when stale).
`latentwatch config check --config FILE`: load and validate a config as the daemon does (exit 2 when it fails)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    ref = sub.add_parser("reference", help="print the config reference (Markdown) generated from the typed config")
    where = ref.add_mutually_exclusive_group()
    where.add_argument("--write", metavar="FILE", help="replace the reference between FILE's markers instead")
    where.add_argument("--check", metavar="FILE", help="exit 1 when FILE's copy differs from the generated one")
    check = sub.add_parser("check", help="load and validate a config file as `latentwatch run` would")
    check.add_argument("--config", required=True, metavar="FILE", help="the YAML config")


def run(args: argparse.Namespace) -> int:
    if args.action == "check":
        return _check_config(Path(args.config))
    from daemon.config.reference import FIX, render, splice

    text = render()
    if not (args.write or args.check):
        sys.stdout.write(text)
        return 0
    path = Path(args.write or args.check)
    try:
        document = path.read_text()
        updated = splice(document, text)
    except (OSError, ValueError) as e:
        print(f"latentwatch config reference: {path}: {e}", file=sys.stderr)
        return 2
    if args.check:
        if updated != document:
            print(f"latentwatch config reference: {path}'s copy is stale; run `{FIX}`", file=sys.stderr)
            return 1
        return 0
    if updated != document:
        path.write_text(updated)
    print(f"{path}: config reference {'updated' if updated != document else 'already current'}")
    return 0


def _check_config(path: Path) -> int:
    from daemon.config import ConfigError, load_config

    try:
        cfg = load_config(path)
    except ConfigError as e:
        print(f"latentwatch config check: {e}", file=sys.stderr)
        return 2
    where = cfg.artifact.path or cfg.artifact.root
    print(
        f"{path}: valid (brokers {','.join(cfg.kafka.bootstrap_servers)}, input {cfg.kafka.input_topic}, model {where})"
    )
    return 0
