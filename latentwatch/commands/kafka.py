"""`latentwatch kafka`: the local single-node KRaft broker (the packaged ``latentwatch/kafka/kafka.sh``, which
``scripts/kafka.sh`` runs in a checkout) from the one console command; works from an installed wheel too."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from latentwatch.kafka import script_path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "action",
        choices=("start", "stop", "status", "fetch", "wipe"),
        help="start (fetching the jars once), stop, status (exit 0 when it answers), fetch, wipe the data",
    )


def run(args: argparse.Namespace) -> int:
    script = script_path()
    if not script.is_file():
        print(
            f"latentwatch kafka: {script} not found: the package was installed without its data files "
            "(point the config at your own cluster otherwise)",
            file=sys.stderr,
        )
        return 2
    # the script's readiness check needs kafka-python: this interpreter has it, wherever the package is installed
    env = {**os.environ}
    env.setdefault("LATENTWATCH_PYTHON", sys.executable)
    return subprocess.call(["bash", str(script), args.action], env=env)
