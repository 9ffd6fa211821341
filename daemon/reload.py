"""SIGHUP: which settings a running daemon can take from a re-read config, and the config it ends up with.

Which keys are live is declared once, on the config sections (``metadata=LIVE`` in ``daemon/config``): today
logging, batching, dead-letter limits, ``episodes.update_every``, ``artifact.check_interval_s``,
``threshold.checkpoint_interval_s``, ``shutdown_timeout_s``. Everything else (Kafka connection and topics, the
threshold method and risk, where the model or state live, HTTP) is kept until a restart and named in the log.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from daemon.config import Config
from daemon.config.base import is_live


def live_keys(section: type = Config, prefix: str = "") -> tuple[str, ...]:
    """The dotted keys marked live on ``section`` and on the sections below it (a live section is one key)."""
    out: list[str] = []
    for f in dataclasses.fields(section):
        below = f.default_factory
        if is_live(f.metadata):
            out.append(prefix + f.name)
        elif isinstance(below, type) and dataclasses.is_dataclass(below):
            out += live_keys(below, f"{prefix}{f.name}.")
    return tuple(out)


LIVE_KEYS = live_keys()


def changed_keys(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two configs (names only: values may be secrets)."""
    if dataclasses.is_dataclass(old) and dataclasses.is_dataclass(new):
        out: list[str] = []
        for f in dataclasses.fields(old):
            if f.name != "source":
                out += changed_keys(getattr(old, f.name), getattr(new, f.name), f"{prefix}{f.name}.")
        return out
    return [prefix.rstrip(".")] if old != new else []


def _take_live(old: Any, new: Any) -> Any:
    """``old`` with every live field (at any depth) taken from ``new``."""
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(old):
        was, now = getattr(old, f.name), getattr(new, f.name)
        if is_live(f.metadata):
            changes[f.name] = now
        elif dataclasses.is_dataclass(was) and not isinstance(was, type):
            merged = _take_live(was, now)
            if merged is not was:
                changes[f.name] = merged
    return dataclasses.replace(old, **changes) if changes else old


def merge_live(old: Config, new: Config) -> tuple[Config, list[str], list[str]]:
    """(the config to run with, keys applied live, changed keys that need a restart)."""
    changed = changed_keys(old, new)
    live = [k for k in changed if any(k == s or k.startswith(s + ".") for s in LIVE_KEYS)]
    return _take_live(old, new), live, [k for k in changed if k not in live]
