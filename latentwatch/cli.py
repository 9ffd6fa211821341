"""`latentwatch`: one console command, one subcommand per job.

Each subcommand lives in ``latentwatch/commands/<name>.py`` with ``add_arguments(parser)`` and ``run(args) -> int``.
They are imported only when chosen, so ``latentwatch --help`` stays fast and a broken optional extra (PyOD for the
benchmarks) cannot break the daemon.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS: dict[str, str] = {
    "train": "train an autoencoder on normal windows and publish an artifact",
    "assets": "publish per-asset references (each asset's own normal) beside the current model, no retraining",
    "refresh": "rebuild the reference from recent normal traffic with the frozen model, validate, publish",
    "artifacts": "list, show, roll back or prune the artifact versions (current.json)",
    "evaluate": "run the ARES evaluation protocol on the real data sets and print the AUROC/AUPR table",
    "run": "run the daemon: consume windows from Kafka, score, threshold, alert, commit",
    "replay": "replay a data set from the data directory into the input topic as windows",
    "bench": "benchmarks that print their numbers (scoring, e2e)",
    "kafka": "start, stop or check the local single-node KRaft broker used by tests and the demo",
    "demo": "end to end on the embedded default: local broker, bundled config, a real data set replayed",
    "report": "one self-contained HTML report of a run: scores, thresholds, episodes, labels, sensors, F1/FAR",
    "install-systemd": "install the daemon and its refresh timer under systemd: user, directories, virtualenv, units",
    "config": "print the config reference (every key, default, live on SIGHUP) or check a config file",
}


def _module(name: str):
    return importlib.import_module(f"latentwatch.commands.{name.replace('-', '_')}")


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="latentwatch", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            _module(name).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    return int(_module(args.command).run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
