"""SKAB's metrics on cases small enough to work out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.evaluate.skab.metrics import (
    Confusion,
    FileDecisions,
    NabCounts,
    _ramp,
    changes,
    evaluate,
    fault_view,
    nab_counts,
    nab_scores,
    nab_windows,
    runs,
)


def test_confusion_and_skab_f1_far_mar():
    c = Confusion.of(np.array([1, 1, 0, 0, 1]), np.array([1, 0, 1, 0, 1]))
    assert (c.tp, c.fp, c.fn, c.tn) == (2, 1, 1, 1)
    assert c.f1 == pytest.approx(2 / (2 + (1 + 1) / 2))
    assert c.far == pytest.approx(50.0)
    assert c.mar == pytest.approx(100 / 3)
    pooled = c + Confusion(tp=1, tn=3)
    assert (pooled.tp, pooled.fp, pooled.fn, pooled.tn) == (3, 1, 1, 4)
    assert pooled.far == pytest.approx(20.0)


def test_flag_everything_and_flag_nothing():
    y = np.array([1, 1, 1, 0])
    assert Confusion.of(y, np.ones(4)).f1 == pytest.approx(3 / 3.5)
    nothing = Confusion.of(y, np.zeros(4))
    assert nothing.f1 == 0.0 and nothing.far == 0.0 and nothing.mar == 100.0


def test_changes_marks_every_rise_and_fall_and_a_flagged_first_row():
    assert changes(np.array([0, 1, 1, 0, 1])).tolist() == [False, True, False, True, True]
    assert changes(np.array([1, 1, 0])).tolist() == [True, False, True]
    assert changes(np.array([], dtype=int)).tolist() == []


def test_nab_windows_go_right_and_cut_the_right_window():
    assert nab_windows(np.array([200, 0, 30])) == [(0.0, 60.0), (60.0, 90.0), (200.0, 260.0)]
    assert nab_windows(np.array([0]), width_s=10) == [(0.0, 10.0)]


def test_ramp_runs_from_a_tp_at_the_changepoint_to_a_fp_at_the_window_end():
    assert _ramp(0.0, 1.0, -0.11) == pytest.approx(1.0)
    assert _ramp(1.0, 1.0, -0.11) == pytest.approx(-0.11)
    assert _ramp(0.5, 1.0, -0.11) == pytest.approx((1.0 - 0.11) / 2, abs=0.01)
    assert _ramp(0.25, 1.0, -0.11) > _ramp(0.5, 1.0, -0.11) > _ramp(0.75, 1.0, -0.11)


def test_nab_counts_first_prediction_per_window_and_fps_outside():
    c = nab_counts(np.array([-5, 0, 30, 60, 80, 200]), [(0.0, 60.0), (100.0, 160.0)])
    # -5 before, 80 between, 200 after: three FPs; 0 opens window 1 (30 and 60 count for nothing); window 2 empty
    assert c == NabCounts(tp_positions=(0.0,), fn=1, fp=3, windows=2)
    assert nab_counts(np.array([1, 2]), []) == NabCounts((), 0, 2, 0)
    assert nab_counts(np.array([45.0]), [(30.0, 90.0)]).tp_positions == (0.25,)


def test_nab_scores_perfect_null_and_one_false_positive():
    assert nab_scores([NabCounts((0.0,), 0, 0, 1)]) == pytest.approx(
        {"standard": 100.0, "low_fp": 100.0, "low_fn": 100.0}
    )
    assert nab_scores([NabCounts((), 1, 0, 1)]) == pytest.approx({"standard": 0.0, "low_fp": 0.0, "low_fn": 0.0})
    s = nab_scores([NabCounts((0.0,), 0, 1, 1)])
    assert s["standard"] == pytest.approx(100 * (1 - 0.11 + 1) / 2)
    assert s["low_fp"] == pytest.approx(100 * (1 - 0.22 + 1) / 2)
    assert s["low_fn"] == pytest.approx(100 * (1 - 0.11 + 2) / 3)


def test_runs():
    assert runs(np.array([1, 0, 0, 1, 1, 1, 0, 1], dtype=bool)) == [(0, 1), (3, 6), (7, 8)]
    assert runs(np.zeros(3, dtype=bool)) == []


def _file(anomaly, flags, changepoint=None, step=2):
    n = len(anomaly)
    cp = np.zeros(n, dtype=int) if changepoint is None else np.asarray(changepoint)
    return FileDecisions(
        "f", np.arange(n, dtype=np.int64) * step, np.asarray(anomaly), cp, np.asarray(flags, dtype=bool)
    )


def test_fault_view_detection_delay_and_false_episodes():
    v = fault_view(_file([0, 0, 1, 1, 1, 0, 0, 0], [1, 0, 0, 1, 1, 1, 0, 1]))
    assert v.detected is True and v.delay_s == 2  # first anomalous row at 4 s, first flagged one at 6 s
    assert v.false_episodes == 2 and v.normal_rows == 5
    missed = fault_view(_file([0, 1, 1, 0], [1, 0, 0, 1]))
    assert missed.detected is False and missed.delay_s is None and missed.false_episodes == 2
    assert fault_view(_file([0, 0], [0, 1])).detected is None


def test_an_episode_open_before_the_fault_detects_it_with_no_delay():
    v = fault_view(_file([0, 1, 1], [1, 1, 0]))
    assert v.detected is True and v.delay_s == 0 and v.false_episodes == 0


def test_evaluate_pools_files():
    a = _file([0, 1, 1, 0], [0, 1, 1, 0], changepoint=[0, 1, 0, 0], step=1)
    b = _file([0, 0, 1, 1], [1, 0, 0, 0], changepoint=[0, 0, 1, 0], step=1)
    r = evaluate([a, b], nab_width_s=60)
    assert {k: r["binary"][k] for k in ("tp", "fp", "fn", "tn")} == {"tp": 2, "fp": 1, "fn": 2, "tn": 3}
    assert r["faults"] == {
        "detected": 1,
        "of": 2,
        "median_delay_s": 0.0,
        "false_episodes": 1,
        "normal_rows": 4,
        "false_episodes_per_1000_normal": 250.0,
    }
    # a: changes at t=1 (rise, opens its window at 1: position 0) and t=3 (fall, inside [1, 61]: ignored);
    # b: change at t=0 (before its window [2, 62]: FP), t=1 (fall, FP); window missed
    assert r["changepoints"] == {"windows": 2, "missed": 1, "false_positives": 2}
    assert r["nab"]["standard"] == pytest.approx(100 * ((1 - 1 - 0.22) - (-2)) / (2 - (-2)))


def test_file_decisions_refuse_mismatched_lengths():
    with pytest.raises(ValueError, match="flags has 2 rows"):
        FileDecisions("x", np.arange(3), np.zeros(3), np.zeros(3), np.zeros(2, dtype=bool))
