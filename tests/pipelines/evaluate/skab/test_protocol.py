"""SKAB's protocol: which windows fit, which are streamed, that a window decides the row it ends on, and that the
decision path gives every test row a decision (real SKAB files, tiny models)."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.data.skab import SkabRun
from pipelines.episodes.episodes import EpisodeTracker
from pipelines.evaluate.skab.protocol import StreamResult, decisions, file_stream, run_stream
from pipelines.evaluate.skab.runner import prepare, report, select_runs, stream_all
from pipelines.evaluate.skab.settings import SkabSettings
from pipelines.threshold import ThresholdBank
from pipelines.threshold.persistence import Persistence


def _run(n=450, c=2):
    values = np.arange(n * c, dtype=np.float64).reshape(n, c)
    anomaly = np.zeros(n, dtype=np.int64)
    anomaly[420:440] = 1
    ts = np.datetime64("2026-01-01T00:00:00") + np.arange(n).astype("timedelta64[s]")
    return SkabRun("valve1/x", values, anomaly, np.zeros(n, dtype=np.int64), ts)


def test_fit_windows_end_before_row_400_and_each_test_window_ends_on_its_row():
    run = _run()
    st = file_stream(run, SkabSettings(length=10, mode="flatten"))
    assert len(st.X_fit) == 400 - 9 and len(st.X_test) == len(st.ts) == 50
    assert np.array_equal(st.X_fit[-1], run.values[390:400].ravel())  # the last fit window ends on row 399
    assert np.array_equal(st.X_test[0], run.values[391:401].ravel())  # row 400's window: rows 391..400, no later
    assert st.ts[0] == run.timestamps[400].astype(np.int64) and np.array_equal(st.anomaly, run.anomaly[400:])
    with pytest.raises(ValueError, match="exceeds the 400 fit rows"):
        file_stream(run, SkabSettings(length=401))


def test_whole_files_stream_every_window_and_decide_the_first_rows_zero():
    run = _run()
    st = file_stream(run, SkabSettings(length=10, mode="flatten"), whole=True)
    assert st.lead == 9 and len(st.ts) == 450 and len(st.X_test) == 441
    res = StreamResult(np.zeros(441), np.zeros(441), np.ones(441, dtype=bool), np.ones(441, dtype=bool), 1)
    flags = decisions(st, res, "alarmed").flags
    assert not flags[:9].any() and flags[9:].all()


def test_run_stream_flags_alarms_and_the_rows_inside_an_open_episode():
    cal = np.random.default_rng(0).exponential(size=3000)
    scores = np.r_[np.zeros(5), np.full(6, 50.0), np.zeros(8)]
    tracker = EpisodeTracker(quiet_windows=3, quiet_seconds=None, max_duration_s=None, update_every=0)
    res = run_stream(
        scores,
        ThresholdBank("spot", cal, q=1e-3, level=0.9),
        Persistence(2, 3, 2),
        tracker,
        "a",
        np.arange(19, dtype=np.int64),
    )
    assert np.flatnonzero(res.alarmed).tolist() == list(range(6, 12))  # opens on the 2nd high, holds 1 past
    assert np.flatnonzero(res.in_episode).tolist() == list(range(6, 14))  # + 2 quiet windows before the close
    assert res.episodes == 1


def test_both_rows_decide_every_test_row_of_real_files():
    runs = [r for r in select_runs(None, ["valve1"]) if r.name in ("valve1/0", "valve1/3")]
    s = SkabSettings(epochs=2, hidden=(8,), latent=2)
    for row in ("leaderboard", "deployment"):
        results = stream_all(prepare(row, s, runs), s)
        assert [len(r.alarmed) for _, r in results] == [len(r) - 400 for r in runs]
        pooled = report(results, "alarmed")["pooled"]["binary"]
        assert pooled["tp"] + pooled["fp"] + pooled["fn"] + pooled["tn"] == sum(len(r) - 400 for r in runs)
