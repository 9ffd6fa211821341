"""SIGHUP: which settings a running daemon can take from a re-read config, and the config it ends up with.

Live: logging, batching, dead-letter limits, ``episodes.update_every``, ``artifact.check_interval_s``,
``threshold.checkpoint_interval_s``, ``shutdown_timeout_s``. Everything else (Kafka connection and topics, the
threshold method and risk, where the model or state live, HTTP) is kept until a restart and named in the log.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from daemon.config import Config

LIVE_KEYS = ("logging", "batching", "dead_letter", "episodes.update_every", "artifact.check_interval_s",
             "threshold.checkpoint_interval_s", "shutdown_timeout_s")


def changed_keys(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two configs (names only: values may be secrets)."""
    if dataclasses.is_dataclass(old) and dataclasses.is_dataclass(new):
        out: list[str] = []
        for f in dataclasses.fields(old):
            if f.name != "source":
                out += changed_keys(getattr(old, f.name), getattr(new, f.name), f"{prefix}{f.name}.")
        return out
    return [prefix.rstrip(".")] if old != new else []


def merge_live(old: Config, new: Config) -> tuple[Config, list[str], list[str]]:
    """(the config to run with, keys applied live, changed keys that need a restart)."""
    changed = changed_keys(old, new)
    live = [k for k in changed if any(k == s or k.startswith(s + ".") for s in LIVE_KEYS)]
    merged = dataclasses.replace(
        old, logging=new.logging, batching=new.batching, dead_letter=new.dead_letter,
        shutdown_timeout_s=new.shutdown_timeout_s,
        episodes=dataclasses.replace(old.episodes, update_every=new.episodes.update_every),
        artifact=dataclasses.replace(old.artifact, check_interval_s=new.artifact.check_interval_s),
        threshold=dataclasses.replace(old.threshold, checkpoint_interval_s=new.threshold.checkpoint_interval_s))
    return merged, live, [k for k in changed if k not in live]
