"""Durable daemon state (thresholds and episodes per asset): atomic write (temp file, fsync, rename, fsync dir).

A reader sees the old file or the new one, never a torn one. The standard library's JSON keeps NaN and infinity
(orjson would write them as null), which detector states may hold. The checkpoint is taken right after a commit, so it
describes the state at the committed offsets: a restart continues with the thresholds it had.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from pipelines import defaults
from pipelines.artifact.store import atomic_write

FORMAT = 1


def save(path: Path, state: dict[str, Any]) -> None:
    data = json.dumps({"format": FORMAT, **state}, default=_plain, separators=(",", ":")).encode()
    atomic_write(path, data)


def load(path: Path) -> dict[str, Any] | None:
    """The saved state, or None when there is none. A file that does not parse raises ValueError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        state = json.loads(data)
    except ValueError as e:
        raise ValueError(f"{path}: checkpoint is not valid JSON: {e}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path}: checkpoint format {state.get('format') if isinstance(state, dict) else None!r} "
                         f"is not {FORMAT}")
    return state


def _plain(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot checkpoint a {type(obj).__name__}")


def upgrade_threshold_key(saved: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint's ``threshold_config`` in today's keys, so that it equals today's key exactly when the saved
    thresholds ran today's policy: before ``refit_every`` existed they refitted on every peak (1); before the
    runaway guard existed they load under its defaults (their state has no guard history, which starts empty);
    ``absorb_after: null`` was the paper's rule, today's only one, so it is dropped, while any other value stays in
    the key, which then differs from today's and the checkpoint is refused (thresholds restart from calibration)."""
    out = {"refit_every": 1, "max_shape": defaults.MAX_SHAPE, "max_peak_ratio": defaults.MAX_PEAK_RATIO,
           "persist_m": 1, "persist_n": 1, "release_windows": 1, **saved}  # before persistence: the raw alarm
    if "absorb_after" in out and out["absorb_after"] is None:
        del out["absorb_after"]
    return out
