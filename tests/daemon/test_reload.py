"""SIGHUP's merge (daemon/reload.py) against the one declaration of what is live: the ``LIVE`` marks on the config
sections. Every leaf key of the config is changed alone, and must be applied live exactly when it is marked."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, Literal

import pytest

from daemon.config import Config, Secret
from daemon.reload import LIVE_KEYS, live_keys, merge_live


def leaves(cls: type, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, type) of every setting below ``cls`` that is not itself a section."""
    out: list[tuple[str, Any]] = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name == "source":
            continue
        tp = hints[f.name]
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            out += leaves(tp, f"{prefix}{f.name}.")
        else:
            out.append((prefix + f.name, tp))
    return out


def other_value(tp: Any, now: Any) -> Any:
    """A value of type ``tp`` different from ``now`` (the config is built without its checks)."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) is Literal:
        return next(a for a in typing.get_args(tp) if a != now)
    if args and typing.get_origin(tp) is not tuple and typing.get_origin(tp) is not dict:
        return other_value(args[0], now)
    table = {
        bool: lambda: not now,
        int: lambda: (now or 0) + 1,
        float: lambda: (now or 0.0) + 1.5,
        str: lambda: f"{now}-other",
        Path: lambda: Path("/elsewhere"),
        Secret: lambda: Secret("other"),
    }
    if tp in table:
        return table[tp]()
    if typing.get_origin(tp) is tuple:
        return (*(now or ()), "other:1")
    if typing.get_origin(tp) is dict:
        return {"other": 1}
    raise AssertionError(f"no other value for {tp}")


def get(obj: Any, key: str) -> Any:
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj


def with_value(obj: Any, key: str, value: Any) -> Any:
    head, _, rest = key.partition(".")
    return dataclasses.replace(obj, **{head: with_value(getattr(obj, head), rest, value) if rest else value})


def test_the_live_keys_are_the_ones_sighup_has_always_taken():
    assert set(LIVE_KEYS) == {
        "logging",
        "batching",
        "dead_letter",
        "episodes.update_every",
        "artifact.check_interval_s",
        "threshold.checkpoint_interval_s",
        "shutdown_timeout_s",
    }
    assert live_keys() == LIVE_KEYS


@pytest.mark.parametrize("key,tp", leaves(Config), ids=[k for k, _ in leaves(Config)])
def test_a_changed_key_is_applied_live_exactly_when_its_section_marks_it(key, tp):
    old = Config()
    value = other_value(tp, get(old, key))
    merged, live, later = merge_live(old, with_value(old, key, value))
    if any(key == s or key.startswith(s + ".") for s in LIVE_KEYS):
        assert (get(merged, key), live, later) == (value, [key], [])
    else:
        assert (get(merged, key), live, later) == (get(old, key), [], [key])
        assert merged == old


def test_live_sections_and_keys_arrive_together_and_the_rest_stays():
    old = Config()
    new = with_value(
        with_value(with_value(old, "dead_letter.window", 9), "threshold.checkpoint_interval_s", 5.0),
        "threshold.q",
        0.002,
    )
    merged, live, later = merge_live(old, new)
    assert merged.dead_letter.window == 9 and merged.threshold.checkpoint_interval_s == 5.0
    assert merged.threshold.q == old.threshold.q
    assert sorted(live) == ["dead_letter.window", "threshold.checkpoint_interval_s"] and later == ["threshold.q"]
