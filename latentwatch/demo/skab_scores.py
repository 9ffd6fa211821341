"""The deployment shape's SKAB scores: each run's first rows are its normal (the artifact's per-asset reference and
thresholds), every later row is decided by the daemon, and the decisions are scored with SKAB's own metrics
(``pipelines.evaluate.skab.metrics``): pooled F1/FAR/MAR, NAB, faults detected.

A window decides the row it ends on. Two flag series, as ``latentwatch evaluate --protocol skab`` reports them:
- "alarmed": from each episode's opening window to its last alarm. With the evaluation's settings (release 20 >=
  quiet_windows 5) the alarms of an episode are one contiguous run, so these are exactly the alarmed windows
  (tests/latentwatch/demo/test_demo_row_b.py checks the chain window by window against the evaluation);
- "episode": from the opening window up to the window before the one whose close alert ends it (to the end of
  the stream while it is still open), the evaluation's ``in_episode``."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

# SKAB's protocol: each file's first 400 rows are its only fitting and calibration data
from pipelines.evaluate.skab.settings import FIT_ROWS as FIRST_ROWS


def test_part(streams: list[Any], spec: Any, first_rows: int = FIRST_ROWS) -> list[Any]:
    """Each stream without the windows that end within its first rows (those are the asset's normal)."""
    from pipelines.sources import WindowStream

    out = []
    for s in streams:
        keep = np.arange(len(s.X)) * spec.stride + spec.length - 1 >= first_rows
        out.append(WindowStream(s.asset, s.X[keep], s.y[keep], s.ts_ms[keep]))
    return out


def scores(
    streams: list[Any],
    episodes: dict[str, dict[str, Any]],
    spec: Any,
    data_dir: str | None,
    first_rows: int = FIRST_ROWS,
) -> dict[str, Any]:
    """SKAB's metrics of the "alarmed" series, with the "episode" series' under ``"episode"``."""
    from pipelines.data import load_skab_runs
    from pipelines.evaluate.skab.metrics import FileDecisions, evaluate

    runs = {f"skab/{r.name}": r for r in load_skab_runs(data_dir)}
    spans: dict[str, list[tuple[int, int, int | None]]] = defaultdict(list)
    for ep in episodes.values():
        spans[ep["asset"]].append(
            (int(round(ep["opened_ts"] * 1000)), int(round(ep["last_ts"] * 1000)), ep.get("closed_ts_ms"))
        )
    alarmed, inside = [], []
    for s in streams:
        run = runs[s.asset]
        ends = np.arange(spec.length - 1, len(run), spec.stride)
        ends = ends[ends >= first_rows][: len(s.ts_ms)]
        ts = np.asarray(s.ts_ms, dtype=np.int64)
        flags, in_episode = np.zeros(len(ts), dtype=bool), np.zeros(len(ts), dtype=bool)
        for lo, hi, closed in spans.get(s.asset, []):
            flags |= (ts >= lo) & (ts <= hi)
            in_episode |= (ts >= lo) & (ts < closed if closed is not None else True)
        args = (run.timestamps[ends].astype("datetime64[s]").astype(np.int64), run.anomaly[ends], run.changepoint[ends])
        alarmed.append(FileDecisions(s.asset, *args, flags))
        inside.append(FileDecisions(s.asset, *args, in_episode))
    return {**evaluate(alarmed), "episode": evaluate(inside)}
