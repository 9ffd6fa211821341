"""Durable daemon state (thresholds, episodes, persistence per asset, and the offsets they reflect).

The file: one uncompressed npz (zip) holding ``state.json`` (everything small, as JSON; the standard library's JSON
keeps NaN and infinity) and every numpy array of the state as a member of its own (the packed per-asset thresholds,
``ThresholdBank.compact_state``), written atomically (temp file, fsync, rename, fsync dir): a reader sees the old
file or the new one, never a torn one. Format 1 (one JSON document, a dict per asset) still loads; any other is
refused with a message naming the file and the format.

Why a crash does not change the decisions (docs/operations.md, "Crash consistency"). Invariant: the state on disk
has seen exactly the windows below the offsets it records (``committed``), and every window below them has had its
alerts acknowledged by the broker. A checkpoint is taken only when no batch is between the threshold step and its
commit, so the state in memory then reflects ``DecisionState.committed`` exactly (the chain is synchronous: a batch that
changed the state is in the commit step until its alerts are flushed and its offsets committed). A restart
restores the state, takes its offsets as ``DecisionState.committed`` and, on every assignment, seeks each partition the
state knows to them, even behind the group's own commit (a kill -9 after a commit, before the next checkpoint). The
windows in between are scored again from the same state, so they give the same alerts with the same ids and
contents: the design is at-least-once with identical duplicates (consumers deduplicate by ``alert_id``; at most a
checkpoint interval of alerts repeats per crash). A partition the state has never seen is written into a checkpoint
with its start offset before any of its windows is processed (``ConsumerLoop._base_new_partitions``), so a kill before
the first periodic checkpoint restarts there too, not at the group's later commit. A partition taken away by a
rebalance leaves ``committed``; if it comes back, it continues from the group's offset with the state as it is
(exact only for a partition one daemon keeps).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from pipelines import defaults
from pipelines.artifact.store import atomic_write

FORMAT = 2
_JSON = "state.json"
_REF = "$array"


def save(path: Path, state: dict[str, Any]) -> None:
    arrays: dict[str, np.ndarray] = {}
    doc = _split({"format": FORMAT, **state}, arrays)
    atomic_write(path, _write_arrays(doc, arrays))


def _write_arrays(doc: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(_JSON, json.dumps(doc, default=_plain, separators=(",", ":")))
        for name, arr in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)
            z.writestr(f"{name}.npy", member.getvalue())
    return buf.getvalue()


def load(path: Path) -> dict[str, Any] | None:
    """The saved state, or None when there is none. A file that does not parse raises ValueError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if data[:2] == b"PK":
        return _load_zip(path, data)
    try:
        state = json.loads(data)
    except ValueError as e:
        raise ValueError(f"{path}: checkpoint is not valid JSON: {e}") from None
    if not isinstance(state, dict) or state.get("format") != 1:
        raise ValueError(
            f"{path}: checkpoint format {state.get('format') if isinstance(state, dict) else None!r} "
            f"is not one this daemon reads (1, 2)"
        )
    return state


def _load_zip(path: Path, data: bytes) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            doc = json.loads(z.read(_JSON))
            arrays = {
                n[:-4]: np.lib.format.read_array(io.BytesIO(z.read(n)), allow_pickle=False)
                for n in z.namelist()
                if n.endswith(".npy")
            }
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise ValueError(f"{path}: checkpoint is not a readable format-{FORMAT} file: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(
            f"{path}: checkpoint format {doc.get('format') if isinstance(doc, dict) else None!r} "
            f"is not one this daemon reads (1, 2)"
        )
    return {k: _join(v, arrays, path) for k, v in doc.items()}


def _split(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(obj, np.ndarray) and obj.ndim >= 1 and obj.dtype != object:
        name = f"a{len(arrays)}"
        arrays[name] = obj
        return {_REF: name}
    if isinstance(obj, dict):
        return {k: _split(v, arrays) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split(v, arrays) for v in obj]
    return obj


def _join(obj: Any, arrays: dict[str, np.ndarray], path: Path) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {_REF}:
            try:
                return arrays[obj[_REF]]
            except KeyError:
                raise ValueError(f"{path}: checkpoint names an array {obj[_REF]!r} it does not hold") from None
        return {k: _join(v, arrays, path) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join(v, arrays, path) for v in obj]
    return obj


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
    out = {
        "refit_every": 1,
        "max_shape": defaults.MAX_SHAPE,
        "max_peak_ratio": defaults.MAX_PEAK_RATIO,
        "persist_m": 1,
        "persist_n": 1,
        "release_windows": 1,
        **saved,
    }  # before persistence: the raw alarm
    if "absorb_after" in out and out["absorb_after"] is None:
        del out["absorb_after"]
    return out
