"""Run SKAB's two latentwatch rows: build each asset's OnlineModel, stream its test windows, score the decisions."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipelines.data import load_skab_anomaly_free, load_skab_runs
from pipelines.data.skab import SkabRun
from pipelines.data.windowing import window_vectors
from pipelines.evaluate.skab.metrics import evaluate
from pipelines.evaluate.skab.models import deployment_asset, deployment_base, leaderboard_model
from pipelines.evaluate.skab.protocol import FileStream, StreamResult, decisions, file_stream, score_stream, stream_file
from pipelines.evaluate.skab.settings import SUBSETS, SkabSettings, subset_of

ROWS = ("leaderboard", "deployment")
FLAGGED = ("alarmed", "episode")


@dataclass
class Prepared:
    stream: FileStream
    calibration: np.ndarray  # the asset's calibration scores (its thresholds start from them)
    scores: np.ndarray  # OnlineModel.score of each test window


def select_runs(data_dir: str | None, subsets: Sequence[str]) -> list[SkabRun]:
    unknown = sorted(set(subsets) - set(SUBSETS))
    if unknown:
        raise ValueError(f"unknown SKAB subset(s) {unknown}; choose from {list(SUBSETS)}")
    return [r for r in load_skab_runs(data_dir) if subset_of(r.name) in subsets]


def prepare(
    row: str,
    s: SkabSettings,
    runs: Sequence[SkabRun],
    data_dir: str | None = None,
    progress: Callable[[str], None] | None = None,
    whole: bool = False,
) -> list[Prepared]:
    """Each file's stream and OnlineModel for row "leaderboard" (a) or "deployment" (b)."""
    if row not in ROWS:
        raise ValueError(f"unknown row {row!r}; choose from {list(ROWS)}")
    base = None
    if row == "deployment":
        free = load_skab_anomaly_free(data_dir)
        base = deployment_base(window_vectors(free.values, s.length, 1, s.mode), s, np.asarray(free.values))
    out = []
    for r in runs:
        t0 = time.perf_counter()
        stream = file_stream(r, s, whole)
        if base is None:
            online = leaderboard_model(stream.X_fit, s, r.name, stream.fit_rows)
        else:
            online = deployment_asset(base[0], base[1], stream.X_fit, stream.fit_rows, s, r.name)
        out.append(Prepared(stream, online.calibration, score_stream(online, stream.X_test)))
        online.close()
        if progress:
            progress(f"{row} {r.name}: {time.perf_counter() - t0:.1f}s")
    return out


def stream_all(prepared: Sequence[Prepared], s: SkabSettings) -> list[tuple[FileStream, StreamResult]]:
    return [(p.stream, stream_file(p.calibration, p.scores, p.stream, s)) for p in prepared]


def report(results: Sequence[tuple[FileStream, StreamResult]], flagged: str) -> dict[str, Any]:
    """Scores pooled over all files and per subset, for one flag series."""
    files = [decisions(st, res, flagged) for st, res in results]
    out = {"pooled": evaluate(files)}
    for sub in SUBSETS:
        part = [f for f in files if subset_of(f.name) == sub]
        if part:
            out[sub] = evaluate(part)
    return out


def per_file(results: Sequence[tuple[FileStream, StreamResult]]) -> list[dict[str, Any]]:
    out = []
    for st, res in results:
        a = st.anomaly[st.lead :] != 0
        out.append(
            {
                "file": st.name,
                "rows": int(len(st.ts)),
                "anomalous": int(a.sum()),
                "alarmed": int(res.alarmed.sum()),
                "in_episode": int(res.in_episode.sum()),
                "episodes": res.episodes,
                "alarmed_in_fault": int((res.alarmed & a).sum()),
                "score_median_normal": float(np.median(res.scores[~a])) if (~a).any() else None,
                "score_median_fault": float(np.median(res.scores[a])) if a.any() else None,
            }
        )
    return out
