"""`latentwatch install-systemd`: the dry run prints the whole plan and does nothing; a real install into a temporary
root creates the directories, the config (kept on a rerun), the units and the virtualenv through `uv sync --locked`
(a stub uv here, which records how it was called)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from latentwatch.cli import main
from latentwatch.commands.install_systemd import UNITS, render_unit, unit_text

REPO = Path(__file__).resolve().parents[3]

STUB_UV = """#!/bin/sh
# `uv python find`: prints $UV_FIND; `uv sync`: records its arguments and environment, then makes the virtualenv's
# entry point and interpreter
if [ "$1" = python ]; then echo "$UV_FIND"; exit 0; fi
python3 - "$@" <<'EOF'
import json, os, sys
venv = os.environ["UV_PROJECT_ENVIRONMENT"]
os.makedirs(f"{venv}/bin", exist_ok=True)
for name in ("latentwatch", "python"):
    open(f"{venv}/bin/{name}", "w").write("#!/bin/sh\\n")
keys = ("UV_PROJECT_ENVIRONMENT", "UV_PYTHON_INSTALL_DIR")
json.dump({"argv": sys.argv[1:], "env": {k: os.environ.get(k) for k in keys}}, open(os.environ["UV_RECORD"], "w"))
EOF
"""


@pytest.fixture
def stub_uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    uv = bin_dir / "uv"
    uv.write_text(STUB_UV)
    uv.chmod(0o755)
    record = tmp_path / "uv-call.json"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("UV_RECORD", str(record))
    monkeypatch.setenv("UV_FIND", "/usr/bin/python3.11")
    return record


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_dry_run_prints_every_step_and_does_nothing(tmp_path: Path, stub_uv: Path, capsys: pytest.CaptureFixture[str]):
    root = tmp_path / "root"
    argv = ["install-systemd", "--dry-run", "--root", str(root), "--prefix", "/srv/lw", "--user", "lw"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert not root.exists() and not stub_uv.exists()
    lines = out.splitlines()
    assert lines[0] == "dry run: nothing below is done"
    assert any(
        line.startswith("run useradd --system --user-group") and line.endswith("lw (skipped: --root)") for line in lines
    )
    for path, mode in [
        ("var/lib/latentwatch/artifacts", "0750"),
        ("var/lib/latentwatch/state", "0750"),
        ("etc/latentwatch/secrets", "0700"),
    ]:
        assert f"mkdir {root / path} (mode {mode}," in out
    sync = next(line for line in lines if " sync " in line)
    assert (
        f"UV_PROJECT_ENVIRONMENT={root}/srv/lw/.venv" in sync and f"UV_PYTHON_INSTALL_DIR={root}/srv/lw/python" in sync
    )
    assert "--locked" in sync and "--no-editable" in sync and f"--python /usr/bin/python3.11 --project {REPO}" in sync
    assert f"write {root}/etc/latentwatch/latentwatch.yaml from {REPO}/conf/example-secure.yaml" in out
    assert "only if none exists" in out
    for name in UNITS:
        assert f"write {root}/etc/systemd/system/{name} from latentwatch/systemd/{name}" in out
    assert "run systemctl daemon-reload (skipped: --root)" in out
    assert "systemctl enable --now latentwatch.service latentwatch-refresh.timer" in out


def test_units_are_rendered_for_the_chosen_prefix_config_dir_and_user():
    text = render_unit(unit_text("latentwatch-refresh.service"), Path("/srv/lw"), Path("/etc/lw"), "scorer")
    assert "ExecStart=/srv/lw/.venv/bin/latentwatch refresh --config /etc/lw/latentwatch.yaml" in text
    assert "User=scorer\n" in text and "Group=scorer\n" in text
    assert "/opt/latentwatch" not in text and "/etc/latentwatch" not in text
    assert "StateDirectory=latentwatch\n" in text  # systemd's name for /var/lib/latentwatch, not the user's
    same = render_unit(
        unit_text("latentwatch.service"), Path("/opt/latentwatch"), Path("/etc/latentwatch"), "latentwatch"
    )
    assert same == unit_text("latentwatch.service")


def test_install_into_a_temporary_root(tmp_path: Path, stub_uv: Path, capsys: pytest.CaptureFixture[str]):
    root = tmp_path / "root"
    assert main(["install-systemd", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "skipped (--root): run useradd" in out and "skipped (--root): run systemctl daemon-reload" in out
    for path, mode in [
        ("var/lib/latentwatch", 0o750),
        ("var/lib/latentwatch/artifacts", 0o750),
        ("var/lib/latentwatch/state", 0o750),
        ("etc/latentwatch", 0o750),
        ("etc/latentwatch/secrets", 0o700),
    ]:
        assert (root / path).is_dir() and _mode(root / path) == mode, path
    config = root / "etc/latentwatch/latentwatch.yaml"
    assert config.read_bytes() == (REPO / "conf/example-secure.yaml").read_bytes() and _mode(config) == 0o640
    for name in UNITS:
        assert (root / "etc/systemd/system" / name).read_text() == unit_text(name)
    assert (root / "opt/latentwatch/README.md").read_bytes() == (REPO / "README.md").read_bytes()
    call = json.loads(stub_uv.read_text())
    assert call["argv"][:5] == ["sync", "--locked", "--no-dev", "--no-editable", "--link-mode"]
    assert call["argv"][-2:] == ["--project", str(REPO)]
    assert call["env"] == {
        "UV_PROJECT_ENVIRONMENT": f"{root}/opt/latentwatch/.venv",
        "UV_PYTHON_INSTALL_DIR": f"{root}/opt/latentwatch/python",
    }

    config.write_text("kafka: {bootstrap_servers: [edited]}\n")  # the operator's config survives a rerun
    assert main(["install-systemd", "--root", str(root)]) == 0
    assert f"kept the existing {config}" in capsys.readouterr().out
    assert config.read_text() == "kafka: {bootstrap_servers: [edited]}\n"


def test_a_virtualenv_whose_interpreter_resolves_under_a_home_is_refused_after_the_sync(
    tmp_path: Path, stub_uv: Path, capsys
):
    root = tmp_path / "root"
    python = root / "opt/latentwatch/.venv/bin/python"
    python.parent.mkdir(parents=True)
    python.symlink_to("/home/someone/.pyenv/versions/3.11.7/bin/python3.11")  # what the sync left
    (tmp_path / "bin" / "uv").write_text("#!/bin/sh\nexit 0\n")  # leaves that link as it is
    assert main(["install-systemd", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert (
        "/home/someone/.pyenv/versions/3.11.7/bin/python3.11 lies under a home directory" in err and "--python" in err
    )
    assert not (root / "etc/systemd/system/latentwatch.service").exists()


def test_an_interpreter_uv_would_take_from_a_home_is_refused_before_anything_is_done(
    tmp_path: Path, stub_uv: Path, capsys, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("UV_FIND", "/root/.pyenv/versions/3.11.7/bin/python3.11")
    root = tmp_path / "root"
    assert main(["install-systemd", "--root", str(root)]) == 2
    assert "uv would build the virtualenv from /root/.pyenv/versions/3.11.7/bin/python3.11" in capsys.readouterr().err
    assert not root.exists() and not stub_uv.exists()


def test_bad_input_is_a_clear_error(tmp_path: Path, stub_uv: Path, capsys, monkeypatch: pytest.MonkeyPatch):
    assert main(["install-systemd", "--dry-run", "--config-source", str(tmp_path / "nope.yaml")]) == 2
    assert f"config to install not found: {tmp_path / 'nope.yaml'}" in capsys.readouterr().err
    assert main(["install-systemd", "--dry-run", "--source", str(tmp_path)]) == 2
    assert f"no project checkout at {tmp_path}" in capsys.readouterr().err
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert main(["install-systemd"]) == 2
    assert "needs root" in capsys.readouterr().err
