"""SKAB's protocol through the daemon's decision path.

Per file: its first 400 rows are the only data for fitting and calibration; every later row is a test row and gets
a decision. A window decides the row it ends on (rows before it only: no look-ahead), so with windows of L rows
the fit windows are those ending before row 400 and the test windows those ending on rows 400, 401, ...
Decisions, in stream order and micro-batches: ``OnlineModel.score`` -> ``ThresholdBank`` (per-asset SPOT/DSPOT from
the asset's calibration scores) -> ``pipelines.threshold.persistence.decide`` -> ``EpisodeTracker``. Two flag
series per file: the windows the decision alarmed, and the rows inside an open episode (from its opening window
up to the window before the one that closes it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.data.skab import SkabRun
from pipelines.data.windowing import window_end_index, window_vectors
from pipelines.episodes.episodes import EpisodeTracker
from pipelines.evaluate.skab.metrics import FileDecisions
from pipelines.evaluate.skab.settings import FIT_ROWS, SkabSettings
from pipelines.online import OnlineModel
from pipelines.threshold import ThresholdBank
from pipelines.threshold.persistence import Persistence, decide

BATCH = 250  # windows per micro-batch, as the daemon would take them off a topic


@dataclass(frozen=True)
class FileStream:
    name: str
    fit_rows: np.ndarray  # the raw rows 0..399 [400, channels]
    X_fit: np.ndarray  # windows ending on rows < 400
    X_test: np.ndarray  # the streamed windows, in order: ending on rows 400 ... n-1 (or on every row, whole=True)
    ts: np.ndarray  # int64 seconds of the decided rows: `lead` rows without a window, then one row per window
    anomaly: np.ndarray
    changepoint: np.ndarray
    lead: int = 0  # leading decided rows no window ends on (whole=True: the first L - 1 rows), never flagged


def file_stream(run: SkabRun, s: SkabSettings, whole: bool = False) -> FileStream:
    """The file's fit windows and what is streamed: its test windows, or (``whole``, the convention of SKAB's own
    notebooks, whose leaderboard FAR counts every row of a file) every window from its first row on, the fit
    windows scored in-sample like theirs, rows before the first full window decided 0."""
    if s.length > FIT_ROWS:
        raise ValueError(f"window length {s.length} exceeds the {FIT_ROWS} fit rows")
    W = window_vectors(run.values, s.length, 1, s.mode)
    ends = window_end_index(len(run), s.length, 1)
    fit, test = ends < FIT_ROWS, ends >= FIT_ROWS
    streamed, lead = (np.ones(len(ends), dtype=bool), s.length - 1) if whole else (test, 0)
    rows = np.r_[np.arange(lead), ends[streamed]]
    return FileStream(
        run.name,
        np.asarray(run.values[:FIT_ROWS]),
        W[fit],
        W[streamed],
        run.timestamps[rows].astype(np.int64),
        np.asarray(run.anomaly[rows]),
        np.asarray(run.changepoint[rows]),
        lead,
    )


def make_bank(calibration: np.ndarray, s: SkabSettings) -> ThresholdBank:
    return ThresholdBank(s.method, calibration, q=s.q, level=s.level)


@dataclass(frozen=True)
class StreamResult:
    scores: np.ndarray
    thresholds: np.ndarray
    alarmed: np.ndarray  # the decision of each window
    in_episode: np.ndarray  # the row is inside an open episode
    episodes: int


def score_stream(online: OnlineModel, X: np.ndarray) -> np.ndarray:
    """``OnlineModel.score`` over micro-batches (each window's score depends on that window only)."""
    return np.concatenate([online.score(X[a : a + BATCH]).score for a in range(0, len(X), BATCH)])


def run_stream(
    scores: np.ndarray,
    bank: ThresholdBank,
    persistence: Persistence,
    tracker: EpisodeTracker,
    asset: str,
    ts: np.ndarray,
) -> StreamResult:
    """Decide on one asset's scores in stream order, micro-batch by micro-batch, as the daemon does."""
    n = len(scores)
    thresholds = np.empty(n)
    alarmed, inside = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    opened, episodes = False, 0
    for a in range(0, n, BATCH):
        b = min(n, a + BATCH)
        assets = [asset] * (b - a)
        alarmed[a:b], thresholds[a:b] = decide(bank, persistence, assets, scores[a:b])
        for i in range(a, b):
            ev = tracker.observe(asset, float(ts[i]), bool(alarmed[i]), float(scores[i]), f"{asset}:{i}")
            if ev is not None and ev.kind == "open":
                opened, episodes = True, episodes + 1
            elif ev is not None and ev.kind == "close":
                opened = False
            inside[i] = opened
    return StreamResult(scores, thresholds, alarmed, inside, episodes)


def decisions(stream: FileStream, result: StreamResult, flagged: str) -> FileDecisions:
    flags = {"alarmed": result.alarmed, "episode": result.in_episode}[flagged]
    flags = np.r_[np.zeros(stream.lead, dtype=bool), flags]
    return FileDecisions(stream.name, stream.ts, stream.anomaly, stream.changepoint, flags)


def stream_file(calibration: np.ndarray, scores: np.ndarray, stream: FileStream, s: SkabSettings) -> StreamResult:
    """One asset's scored test windows through its own bank, persistence and episode tracker."""
    bank = make_bank(calibration, s)
    persistence = Persistence(s.m, s.n, s.release)
    tracker = EpisodeTracker(
        quiet_windows=s.quiet_windows, quiet_seconds=s.quiet_seconds, max_duration_s=s.max_duration_s, update_every=0
    )
    return run_stream(scores, bank, persistence, tracker, f"skab/{stream.name}", stream.ts[stream.lead :])
