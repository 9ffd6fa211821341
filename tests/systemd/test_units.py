"""CI checks on the three units: `systemd-analyze verify` accepts them without a warning, both services stay at an
exposure of at most 2.0 (`systemd-analyze security --offline=yes`), the refresh job keeps the daemon's sandbox and
the timer starts it on the README's schedule.

A missing systemd-analyze is a test failure with a message, never a skip: scripts/test.sh installs it from Debian's
packages when it runs as root.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from latentwatch.cli import build_parser
from latentwatch.commands.install_systemd import DEFAULT_PREFIX, UNITS, render_unit, unit_text

REPO = Path(__file__).resolve().parents[2]
SERVICES = [u for u in UNITS if u.endswith(".service")]
MAX_EXPOSURE = 2.0
# What the two services may set differently: how each runs, and the one path the daemon only reads.
LIFECYCLE = {
    "Type",
    "NotifyAccess",
    "ExecStart",
    "ExecReload",
    "KillSignal",
    "TimeoutStopSec",
    "TimeoutStartSec",
    "WatchdogSec",
    "Restart",
    "RestartSec",
    "RestartPreventExitStatus",
    "Environment",
    "ReadOnlyPaths",
    "Nice",
    "CPUWeight",
    "IOSchedulingClass",
    "OOMScoreAdjust",
}


def _analyze() -> str:
    found = shutil.which("systemd-analyze")
    if not found:
        pytest.fail("systemd-analyze not found: apt-get install -y systemd (scripts/test.sh does it as root)")
    return found


def _section(name: str, section: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = None
    for line in unit_text(name).splitlines():
        if line.startswith("["):
            current = line.strip()
        elif current == section and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    """The units as install-systemd writes them for a prefix under tmp_path, with a stub `latentwatch` there:
    verify checks that ExecStart's binary exists and is executable."""
    prefix = tmp_path / "opt"
    stub = prefix / ".venv" / "bin" / "latentwatch"
    stub.parent.mkdir(parents=True)
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    for name in UNITS:
        (units / name).write_text(render_unit(unit_text(name), prefix, Path("/etc/latentwatch"), "latentwatch"))
    return units


def test_the_units_in_systemd_are_the_packaged_ones():
    for name in UNITS:
        assert (REPO / "systemd" / name).read_text() == unit_text(name)


def test_systemd_analyze_verify_accepts_all_three_units_without_a_warning(rendered: Path):
    assert str(DEFAULT_PREFIX) not in (rendered / "latentwatch.service").read_text()
    done = subprocess.run(
        [_analyze(), "verify", *(str(rendered / n) for n in UNITS)], capture_output=True, text=True, timeout=120
    )
    # Unknown keys and unparsable values are only warnings (exit 0): any output is a failure here.
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stdout + done.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_exposure_is_at_most_two(name: str, rendered: Path):
    # systemd 252 takes --threshold as an integer on the 0-100 scale of the exposure x 10: 20 is 2.0.
    done = subprocess.run(
        [_analyze(), "security", "--offline=yes", "--threshold=20", "--no-pager", str(rendered / name)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert found, done.stdout + done.stderr
    assert float(found.group(1)) <= MAX_EXPOSURE and done.returncode == 0, done.stdout


def test_the_refresh_job_keeps_the_daemons_sandbox_and_may_write_the_artifacts():
    daemon, refresh = _section(SERVICES[0], "[Service]"), _section(SERVICES[1], "[Service]")
    sandbox = set(daemon) - LIFECYCLE
    assert {k: refresh.get(k) for k in sandbox} == {k: daemon[k] for k in sandbox}
    assert set(refresh) - LIFECYCLE <= sandbox
    assert daemon["ReadOnlyPaths"] == ["/var/lib/latentwatch/artifacts"] and "ReadOnlyPaths" not in refresh
    assert refresh["Type"] == ["oneshot"] and refresh["IOSchedulingClass"] == ["idle"]
    assert int(refresh["CPUWeight"][0]) < 100 and int(refresh["OOMScoreAdjust"][0]) > 0
    # A failed validation (exit 3) must leave the unit failed: no SuccessExitStatus may hide it.
    assert "SuccessExitStatus" not in refresh


def test_the_timer_starts_the_refresh_on_the_readmes_schedule():
    timer = _section("latentwatch-refresh.timer", "[Timer]")
    assert timer["Unit"] == ["latentwatch-refresh.service"] and timer["Persistent"] == ["true"]
    assert timer["RandomizedDelaySec"]
    assert f"OnCalendar={timer['OnCalendar'][0]}" in (REPO / "README.md").read_text()


@pytest.mark.parametrize(("name", "command"), list(zip(SERVICES, ["run", "refresh"], strict=True)))
def test_exec_start_is_a_command_line_the_cli_accepts(name: str, command: str):
    binary, *argv = shlex.split(_section(name, "[Service]")["ExecStart"][0])
    assert binary == f"{DEFAULT_PREFIX}/.venv/bin/latentwatch"
    args = build_parser(argv).parse_args(argv)
    assert args.command == command and args.config == "/etc/latentwatch/latentwatch.yaml"
