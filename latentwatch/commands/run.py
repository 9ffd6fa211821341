"""`latentwatch run --config FILE`: the daemon."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        required=True,
        metavar="FILE",
        help="YAML config (conf/local.yaml is the bundled default for the local broker)",
    )


def run(args: argparse.Namespace) -> int:
    from daemon.config import ConfigError, load_config
    from daemon.service import Daemon

    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        print(f"latentwatch run: {e}", file=sys.stderr)
        return 2
    import torch

    # Batches of ~1000 small vectors: torch's intra-op threads only contend with the neighbour-search threads
    # (ARES fell from 61k to 12k windows/s at a 100k reference with torch's default thread count).
    torch.set_num_threads(1)
    return Daemon(cfg).run()
