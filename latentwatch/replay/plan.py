"""Where a replay's windows come from: an artifact's manifest, the assets chosen, one pass merged by time."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of an artifact: ``path`` is an artifact root (follows ``current``) or one version directory."""
    path = Path(path)
    if (path / "manifest.json").is_file():
        return json.loads((path / "manifest.json").read_text())
    from pipelines.artifact.store import resolve_current

    return json.loads((resolve_current(path) / "manifest.json").read_text())


def select_assets(names: Sequence[str], patterns: Sequence[str] | None) -> list[int]:
    """Indices of the assets whose name matches one of ``patterns`` (exact names or shell globs), in data order."""
    if not patterns:
        return list(range(len(names)))
    keep = [i for i, n in enumerate(names) if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    if not keep:
        raise ValueError(
            f"no asset matches {list(patterns)}; assets: {', '.join(names[:20])}{' ...' if len(names) > 20 else ''}"
        )
    return keep


def merge_order(ts: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(stream index, row index) of every window, merged by time: ordered by each stream's running maximum time stamp
    (so a stream whose clock steps back still keeps its own order), then stream, then row."""
    sid = np.concatenate([np.full(len(t), i, dtype=np.int64) for i, t in enumerate(ts)]) if ts else np.empty(0, int)
    rid = np.concatenate([np.arange(len(t), dtype=np.int64) for t in ts]) if ts else np.empty(0, int)
    key = (
        np.concatenate(
            [np.maximum.accumulate(np.asarray(t, dtype=np.int64)) if len(t) else np.empty(0, np.int64) for t in ts]
        )
        if ts
        else np.empty(0, np.int64)
    )
    order = np.lexsort((rid, sid, key))
    return sid[order], rid[order]


@dataclass(frozen=True)
class Window:
    asset: str
    ts_ms: int
    values: np.ndarray
    label: int
    index: int
    loop: int


@dataclass
class Plan:
    """The windows of one pass, merged by time, plus what a looping replay needs to shift time stamps."""

    source: str
    streams: list[Any]  # pipelines.sources.WindowStream
    sid: np.ndarray
    rid: np.ndarray

    @classmethod
    def build(cls, source: str, streams: Sequence[Any], assets: Sequence[str] | None = None) -> Plan:
        keep = select_assets([s.asset for s in streams], assets)
        chosen = [streams[i] for i in keep]
        sid, rid = merge_order([s.ts_ms for s in chosen])
        return cls(source, chosen, sid, rid)

    def __len__(self) -> int:
        return int(self.sid.size)

    @property
    def dim(self) -> int:
        return int(self.streams[0].X.shape[1]) if self.streams else 0

    def loop_shift_ms(self) -> int:
        """How far each pass moves the clock: the span of the data plus one second."""
        firsts = [int(s.ts_ms[0]) for s in self.streams if len(s.ts_ms)]
        lasts = [int(np.max(s.ts_ms)) for s in self.streams if len(s.ts_ms)]
        return (max(lasts) - min(firsts) + 1000) if firsts else 1000

    def windows(self, loop: bool = False) -> Iterator[Window]:
        shift, n = self.loop_shift_ms(), 0
        while True:
            for s, r in zip(self.sid.tolist(), self.rid.tolist(), strict=True):
                st = self.streams[s]
                yield Window(st.asset, int(st.ts_ms[r]) + n * shift, st.X[r], int(st.y[r]), r, n)
            n += 1
            if not loop or not len(self):
                return
