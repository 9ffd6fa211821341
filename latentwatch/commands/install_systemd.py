"""`latentwatch install-systemd`: the system user, the directories, a virtualenv at the prefix, the config and the
three units (``latentwatch/systemd/``, shipped as package data; ``systemd/`` in a checkout points there).

The virtualenv is ``uv sync --locked --no-editable`` of the source checkout into ``PREFIX/.venv``: the dependencies
exactly as ``uv.lock`` pins them and this package installed as a regular copy, so the checkout may go afterwards.
Its interpreter is the one ``uv python find --system`` names or, when uv has to download one, lands in
``PREFIX/python``: never under a home directory, which the units' ``ProtectHome=yes`` hides from the service (checked
before anything is done and again after the sync).

Every step is planned first (``plan``) and then either printed (``--dry-run``) or done in order. ``--root DIR`` puts
every path under DIR and skips what would change the host itself: useradd, chown and systemctl.
"""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

UNITS = ("latentwatch.service", "latentwatch-refresh.service", "latentwatch-refresh.timer")
DEFAULT_PREFIX = Path("/opt/latentwatch")
DEFAULT_CONFIG_DIR = Path("/etc/latentwatch")
DEFAULT_USER = "latentwatch"
STATE_ROOT = Path("/var/lib/latentwatch")  # the units' StateDirectory=latentwatch: fixed by systemd, not an option
UNIT_DIR = Path("/etc/systemd/system")
HIDDEN_HOMES = ("/home", "/root", "/run/user")


class InstallError(Exception):
    """Bad input; the message names what and where (exit 2)."""


class StepFailed(InstallError):
    """A command of the plan failed (exit 1); the steps before it stay done, a rerun repeats them harmlessly."""


def _under(root: Path | None, path: Path) -> Path:
    return root / path.relative_to("/") if root is not None else path


@dataclass(frozen=True)
class Command:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    host_only: bool = False  # changes the host itself (users, systemd): skipped under --root

    def describe(self, root: Path | None = None) -> str:
        env = " ".join(f"{k}={shlex.quote(str(_under(root, Path(v))))}" for k, v in self.env.items())
        return f"run {env + ' ' if env else ''}{shlex.join(self.argv)}"


@dataclass(frozen=True)
class Directory:
    path: Path
    mode: int
    owner: str  # user:group

    def describe(self, root: Path | None = None) -> str:
        return f"mkdir {_under(root, self.path)} (mode {self.mode:04o}, owner {_owner(self.owner, root)})"


@dataclass(frozen=True)
class File:
    path: Path
    content: bytes
    mode: int
    owner: str
    origin: str
    keep_existing: bool = False

    def describe(self, root: Path | None = None) -> str:
        keep = ", only if none exists" if self.keep_existing else ""
        where = _under(root, self.path)
        return f"write {where} from {self.origin} (mode {self.mode:04o}, owner {_owner(self.owner, root)}{keep})"


@dataclass(frozen=True)
class InterpreterCheck:
    """The virtualenv's interpreter must lie where the service can read it: not under a directory that the units'
    ``ProtectHome=yes`` hides (a pyenv or uv interpreter in root's home would be found by uv and fail at start)."""

    python: Path

    def describe(self, root: Path | None = None) -> str:
        return f"check that {_under(root, self.python)} resolves outside {', '.join(HIDDEN_HOMES)} (ProtectHome=yes)"


Step = Command | Directory | File | InterpreterCheck


def _owner(owner: str, root: Path | None) -> str:
    return owner if root is None else f"{owner}: not set under --root"


def unit_text(name: str) -> str:
    """The packaged unit ``name`` as shipped (default prefix, config dir and user)."""
    return (files("latentwatch") / "systemd" / name).read_text()


def render_unit(text: str, prefix: Path, config_dir: Path, user: str) -> str:
    """A unit with the prefix, the config dir and the user of this install in place of the defaults."""
    text = text.replace(str(DEFAULT_PREFIX), str(prefix)).replace(str(DEFAULT_CONFIG_DIR), str(config_dir))
    lines = [
        f"{key}={user}" if key in ("User", "Group") and value == DEFAULT_USER else line
        for line in text.splitlines()
        for key, _, value in [line.partition("=")]
    ]
    return "\n".join(lines) + "\n"


def find_source(given: str | None) -> Path:
    """The project checkout whose ``uv.lock`` the virtualenv is installed from."""
    source = Path(given) if given else Path(__file__).resolve().parents[2]
    if not (source / "uv.lock").is_file() or not (source / "pyproject.toml").is_file():
        where = "--source" if given else "this package's parent directory"
        raise InstallError(
            f"no project checkout at {source} ({where}: pyproject.toml and uv.lock needed): pass --source DIR, "
            "a clone of the repository; the virtualenv is installed from its lock"
        )
    return source


def find_uv() -> str:
    found = shutil.which("uv") or shutil.which("uv", path=str(Path.home() / ".local/bin"))
    if not found:
        raise InstallError("uv not found on PATH or in ~/.local/bin: install it (python3 -m pip install uv)")
    return found


def _in_home(path: str) -> bool:
    return any(path == h or path.startswith(h + "/") for h in HIDDEN_HOMES)


def choose_python(uv: str, spec: str, install_dir: Path) -> str:
    """The interpreter uv would build the virtualenv from (``uv python find --system``, venvs left out), refused
    before anything is done when it resolves under a home; ``spec`` itself when uv finds none and will download one
    into ``install_dir``."""
    env = {**os.environ, "UV_PYTHON_INSTALL_DIR": str(install_dir)}
    try:
        found = subprocess.run(
            [uv, "python", "find", "--system", spec], env=env, capture_output=True, text=True, timeout=120, cwd="/"
        )
    except OSError:
        return spec  # a dry run without uv
    lines = found.stdout.strip().splitlines()
    if found.returncode != 0 or not lines:
        return spec
    real = os.path.realpath(lines[-1])
    if _in_home(real):
        shown = lines[-1] if real == lines[-1] else f"{lines[-1]} ({real})"
        raise InstallError(
            f"uv would build the virtualenv from {shown}, under a home directory, "
            "which the units' ProtectHome=yes hides from the service: pass --python /usr/bin/python3.11 (or another "
            "interpreter outside the homes)"
        )
    return lines[-1]


def plan(args: argparse.Namespace, source: Path, uv: str) -> list[Step]:
    """Every step of the install, in order, with the paths as the installed system sees them."""
    prefix, config_dir, user = Path(args.prefix), Path(args.config_dir), args.user
    config_source = Path(args.config_source) if args.config_source else source / "conf" / "example-secure.yaml"
    if not config_source.is_file():
        raise InstallError(f"config to install not found: {config_source} (--config-source)")
    mine, shared = f"{user}:{user}", f"root:{user}"
    sync = [uv, "sync", "--locked", "--no-dev", "--no-editable", "--link-mode", "copy"]
    steps: list[Step] = [
        Command(
            ["useradd", "--system", "--user-group", "--home-dir", str(STATE_ROOT), "--no-create-home"]
            + ["--shell", "/usr/sbin/nologin", user],
            host_only=True,
        ),
        Directory(STATE_ROOT, 0o750, mine),
        Directory(STATE_ROOT / "artifacts", 0o750, mine),
        Directory(STATE_ROOT / "state", 0o750, mine),
        Directory(config_dir, 0o750, shared),
        Directory(config_dir / "secrets", 0o700, mine),
        Directory(prefix, 0o755, "root:root"),
        Command(
            sync + ["--python", choose_python(uv, args.python, prefix / "python"), "--project", str(source)],
            env={"UV_PROJECT_ENVIRONMENT": str(prefix / ".venv"), "UV_PYTHON_INSTALL_DIR": str(prefix / "python")},
        ),
        InterpreterCheck(prefix / ".venv" / "bin" / "python"),
        File(prefix / "README.md", (source / "README.md").read_bytes(), 0o644, "root:root", str(source / "README.md")),
        File(
            config_dir / "latentwatch.yaml",
            config_source.read_bytes(),
            0o640,
            shared,
            str(config_source),
            keep_existing=True,
        ),
    ]
    for name in UNITS:
        text = render_unit(unit_text(name), prefix, config_dir, user)
        steps.append(File(UNIT_DIR / name, text.encode(), 0o644, "root:root", f"latentwatch/systemd/{name}"))
    steps.append(Command(["systemctl", "daemon-reload"], host_only=True))
    return steps


def _chown(path: Path, owner: str) -> None:
    user, _, group = owner.partition(":")
    os.chown(path, pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid)


def _user_exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


def execute(step: Step, root: Path | None) -> str:
    """Do one step; returns what was done (or skipped, and why) for the log."""
    if isinstance(step, Command):
        skip = _skip_reason(step, root)
        if skip:
            return f"skipped ({skip}): {step.describe(root)}"
        print(step.describe(root), flush=True)  # before the command's own output
        env = {**os.environ, **{k: str(_under(root, Path(v))) for k, v in step.env.items()}}
        done = subprocess.run(step.argv, env=env)
        if done.returncode != 0:
            raise StepFailed(f"exit code {done.returncode}: {step.describe(root)}")
        return "  done"
    if isinstance(step, InterpreterCheck):
        real = os.path.realpath(_under(root, step.python))
        if _in_home(real):
            raise StepFailed(
                f"the virtualenv's interpreter {real} lies under a home directory, which the units' ProtectHome=yes "
                "hides from the service: rerun with --python /usr/bin/python3.11 (or a path outside the homes)"
            )
        return f"{step.describe(root)}: {real}"
    path = _under(root, step.path)
    if isinstance(step, File) and step.keep_existing and path.exists():
        return f"kept the existing {path} (not overwritten)"
    if isinstance(step, Directory):
        path.mkdir(parents=True, exist_ok=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(step.content)
        os.replace(tmp, path)
    path.chmod(step.mode)
    if root is None:
        _chown(path, step.owner)
    return step.describe(root)


def _skip_reason(step: Command, root: Path | None) -> str | None:
    if step.host_only and root is not None:
        return "--root"
    if step.argv[0] == "useradd" and _user_exists(step.argv[-1]):
        return f"user {step.argv[-1]} exists"
    return None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help="print every step (commands, directories, files), do none")
    p.add_argument("--prefix", default=str(DEFAULT_PREFIX), help="where the virtualenv goes (default %(default)s)")
    p.add_argument("--config-dir", default=str(DEFAULT_CONFIG_DIR), help="config and secrets (default %(default)s)")
    p.add_argument("--user", default=DEFAULT_USER, help="system user and group the units run as (default %(default)s)")
    p.add_argument(
        "--root",
        help="put every path under this directory and skip useradd, chown and systemctl (tests, inspecting the result)",
    )
    p.add_argument("--source", help="the project checkout to install from (default: the one this command runs from)")
    p.add_argument("--config-source", help="config copied when none exists (default: SOURCE/conf/example-secure.yaml)")
    p.add_argument("--python", default="3.11", help="interpreter for the virtualenv, a version or a path (uv -p)")


def _next_steps(config_dir: Path) -> str:
    return (
        f"next: edit {config_dir / 'latentwatch.yaml'} (brokers, topics; secrets in files under "
        f"{config_dir / 'secrets'}/), then\n"
        "  systemctl enable --now latentwatch.service latentwatch-refresh.timer\n"
        "  systemctl status latentwatch; journalctl -u latentwatch -f; systemctl list-timers latentwatch-refresh"
    )


def run(args: argparse.Namespace) -> int:
    root = Path(args.root).resolve() if args.root else None
    try:
        if not args.dry_run and root is None and os.geteuid() != 0:
            raise InstallError("needs root (or --dry-run to see the plan, --root DIR to stage into a directory)")
        source = find_source(args.source)
        try:
            uv = find_uv()
        except InstallError:
            if not args.dry_run:
                raise
            uv = "uv"
        steps = plan(args, source, uv)
        if args.dry_run:
            print("dry run: nothing below is done")
        for step in steps:
            if args.dry_run:
                skip = _skip_reason(step, root) if isinstance(step, Command) else None
                print(f"{step.describe(root)}{f' (skipped: {skip})' if skip else ''}")
            else:
                print(execute(step, root), flush=True)
    except InstallError as e:
        print(f"latentwatch install-systemd: {e}", file=sys.stderr)
        return 1 if isinstance(e, StepFailed) else 2
    print(_next_steps(Path(args.config_dir)))
    return 0
