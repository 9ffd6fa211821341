#!/usr/bin/env bash
# The project's test command (the README points here; CI runs it through .ci/run).
#
#   scripts/test.sh [pytest args...]      e.g. scripts/test.sh -m "not slow" -x
#
# From a clean clone: installs uv if missing, creates .venv (Python 3.11) with the package and its test
# extras at the versions in uv.lock (`uv sync --locked`: a lock that no longer matches pyproject.toml is an
# error, never a silent re-resolve; refresh it with `uv lock`), fetches the Kafka jars, starts the local
# broker (scripts/kafka.sh), runs pytest, then ruff (lint and format) and mypy, stops the broker on exit if
# this run started it, and exits with pytest's exit code, or 1 when the tests passed and ruff or mypy did not.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TEST_CMD=".venv/bin/python -m pytest"

PATH="$HOME/.local/bin:$PATH"  # where uv's own installer and `pip install --user uv` put it
if ! command -v uv >/dev/null 2>&1; then
    echo "test.sh: installing uv with pip" >&2
    python3 -m pip install --user uv || python3 -m pip install --user --break-system-packages uv
    PATH="$(python3 -m site --user-base)/bin:$PATH"
fi
UV_PROJECT_ENVIRONMENT=.venv uv sync --locked -p 3.11 --extra test --extra bench

# The report's render test (tests/latentwatch/report/test_browser.py) opens a report in headless Chromium.
if ! command -v chromium >/dev/null 2>&1; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "test.sh: installing chromium (Debian's package) for the report's browser test" >&2
        { apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; } ||
            echo "test.sh: could not install chromium; the report's browser test will skip" >&2
    else
        echo "test.sh: no chromium and not root to install it: the report's browser test will skip (apt-get install chromium)" >&2
    fi
fi

# The tests read the real data sets; without them most would fail one by one, so say it once, up front.
if ! data_dir=$(.venv/bin/python -c '
import sys
from pipelines.data.registry import DataError, resolve_data_dir
try:
    print(resolve_data_dir())
except DataError as e:
    sys.exit(str(e))' 2>&1); then
    echo "test.sh: $data_dir" >&2
    echo "test.sh: the tests need the shared data sets: put them at ../shared/data beside the repo, or set LATENTWATCH_DATA_DIR" >&2
    exit 2
fi
echo "test.sh: data sets from $data_dir" >&2

# tests/systemd/test_units.py runs systemd-analyze (verify, security --offline): install it from Debian's packages
# when missing (it only installs the tools; nothing is started). Without root or apt-get those tests fail, by name.
if ! command -v systemd-analyze >/dev/null 2>&1; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "test.sh: installing systemd (for systemd-analyze) with apt-get" >&2
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null; } ||
            echo "test.sh: apt-get install systemd failed: tests/systemd/test_units.py will fail" >&2
    else
        echo "test.sh: systemd-analyze missing and no root with apt-get to install it (apt-get install -y systemd):" \
            "tests/systemd/test_units.py will fail" >&2
    fi
fi

scripts/kafka.sh fetch
broker_was_running=0
if scripts/kafka.sh status >/dev/null 2>&1; then broker_was_running=1; fi
stop_broker() {
    if [[ $broker_was_running == 0 ]]; then scripts/kafka.sh stop || true; fi
}
trap stop_broker EXIT
scripts/kafka.sh start

set +e
$TEST_CMD "$@"
rc=$?
# The house's habits (pyproject.toml: [tool.ruff], [tool.mypy]): lint, format and types are part of the test
# command, so CI fails on them too. Run after pytest so a lint slip never hides a test result.
lint_rc=0
echo "test.sh: ruff check, ruff format --check, mypy daemon pipelines" >&2
.venv/bin/ruff check . || lint_rc=1
.venv/bin/ruff format --check . || lint_rc=1
.venv/bin/mypy daemon pipelines || lint_rc=1
set -e
if [[ $rc == 0 && $lint_rc != 0 ]]; then
    echo "test.sh: the tests passed, but ruff or mypy did not (above)" >&2
    rc=1
fi
exit "$rc"
