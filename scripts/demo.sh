#!/usr/bin/env bash
# The README's first command: the main job end to end on the embedded default, from a fresh clone.
#
#   scripts/demo.sh [latentwatch demo options...]      e.g. scripts/demo.sh --runs 3 --epochs 5
#   scripts/demo.sh --synthetic                         no data sets: a simulated plant with labelled faults
#
# Installs uv if missing, creates .venv (Python 3.11) with the package at the versions in uv.lock (`uv sync --locked`;
# --inexact keeps the test extras scripts/test.sh added), then runs `latentwatch demo`, which starts
# the local Kafka broker if none answers (and stops it at the end), trains a SKAB model into var/artifacts if there
# is none, runs the daemon, replays the labelled SKAB runs, and prints and writes (out/demo.json) the summary.
# While it runs, the terminal shows the alerts as they arrive and a progress line (latentwatch/demo/live.py).
# Needs Java 17+ and, for the first broker start, Maven (they fetch the broker jars); the data in ../shared/data
# (or $LATENTWATCH_DATA_DIR); without them it says where to get them, and --synthetic needs none. Exit code: the demo's (0 every check passed, 1 a check failed, 2 it could not run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PATH="$HOME/.local/bin:$PATH"  # where uv's own installer and `pip install --user uv` put it
if ! command -v uv >/dev/null 2>&1; then
    echo "demo.sh: installing uv with pip" >&2
    python3 -m pip install --user uv || python3 -m pip install --user --break-system-packages uv
    PATH="$(python3 -m site --user-base)/bin:$PATH"
fi
# bytecode for what this installs (a fresh venv: all of it)
UV_PROJECT_ENVIRONMENT=.venv uv sync -q --locked --inexact --compile-bytecode -p 3.11 >&2
exec .venv/bin/latentwatch demo "$@"
