"""`latentwatch kafka`: the repo's local single-node KRaft broker (scripts/kafka.sh) from the one console command."""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "kafka.sh"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("start", "stop", "status", "fetch", "wipe"),
                   help="start (fetching the jars once), stop, status (exit 0 when it answers), fetch, wipe the data")


def run(args: argparse.Namespace) -> int:
    if not SCRIPT.is_file():
        print(f"latentwatch kafka: {SCRIPT} not found; this command needs a checkout of the repo "
              "(point the config at your own cluster otherwise)", file=sys.stderr)
        return 2
    return subprocess.call(["bash", str(SCRIPT), args.action])
