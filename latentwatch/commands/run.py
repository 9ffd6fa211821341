"""`latentwatch run --config FILE`: the daemon."""
from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="FILE",
                        help="YAML config (conf/local.yaml is the bundled default for the local broker)")


def run(args: argparse.Namespace) -> int:
    from daemon.service import Daemon
    from latentwatch.config import ConfigError, load_config

    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        print(f"latentwatch run: {e}", file=sys.stderr)
        return 2
    return Daemon(cfg).run()
