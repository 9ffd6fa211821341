"""Episodes, detection and window scores from the alerts and the labels."""

from __future__ import annotations

import numpy as np
import pytest

from latentwatch.report.measure import Counts, episode_sensors, measure
from tests.latentwatch.report.conftest import make_run


def test_counts_give_precision_recall_f1_and_far():
    c = Counts()
    c.add(np.array([1, 1, 0, 0, 1, 0], bool), np.array([1, 0, 1, 0, 1, -1], np.int8))  # the last one unlabelled
    assert (c.tp, c.fp, c.fn, c.tn) == (2, 1, 1, 1)
    s = c.scores()
    assert s["precision"] == pytest.approx(2 / 3) and s["recall"] == pytest.approx(2 / 3)
    assert s["f1"] == pytest.approx(2 / 3) and s["far"] == pytest.approx(50.0) and s["mar"] == pytest.approx(100 / 3)


def test_episodes_are_true_or_false_by_the_labels():
    m = measure(make_run())
    assert [e["true"] for e in m.episodes["pump/1"]] == [False, True]
    assert [e["true"] for e in m.episodes["valve/2"]] == [True]
    assert m.totals["true_episodes"] == 2 and m.totals["false_episodes"] == 1
    assert m.runs["pump/1"]["delay_s"] == 2.0  # opened on window 152, the label starts on 150
    fleet = m.by_episode["fleet"]
    # inside an episode: pump/1 windows 40..44 (false) and 152..199, valve/2 152..199; labelled 150..199 on both
    assert fleet["precision"] == pytest.approx(96 / 101) and fleet["recall"] == pytest.approx(96 / 100)
    assert "fleet" in m.by_alarm and "fleet" not in measure(make_run(traced=False)).by_alarm


def test_sensors_are_averaged_over_an_episodes_alerts():
    sensors = episode_sensors(make_run().alerts)
    assert sensors["pump/1-ep0"] == [("Pressure", pytest.approx(0.6)), ("Temperature", pytest.approx(0.3))]


def test_episodes_of_an_unlabelled_asset_are_neither_true_nor_false():
    from latentwatch.report.html import render

    run = make_run()
    for s in run.series.values():
        s.y[:] = -1
    m = measure(run)
    assert [e.get("true") for e in m.episodes["pump/1"]] == [None, None]
    assert m.by_episode == {} and m.totals["false_episodes"] == 0
    page = render(run)
    assert page.count("<td>unlabelled</td>") == 3 and "<td>false</td>" not in page
