"""The daemon decides with its config's persistence and keeps that state in its checkpoint, so a restart decides
the next windows exactly as an uninterrupted run would."""

from __future__ import annotations

import json

import numpy as np

from daemon.config import Config, ThresholdConfig
from tests.daemon.helpers import checkpoint_as_format1
from tests.daemon.test_service import restored_daemon


def _daemon(tmp_path, **persist):
    cfg = Config(
        threshold=ThresholdConfig(method="spot", q=1e-3, level=0.9, checkpoint_path=tmp_path / "s.json", **persist)
    )
    return restored_daemon(cfg)


def test_the_persistence_state_survives_a_restart(tmp_path):
    from pipelines.threshold.persistence import decide

    kw = {"persist_m": 2, "persist_n": 3, "release_windows": 3}
    scores = np.r_[np.full(5, 0.1), np.full(4, 50.0), np.full(2, 0.1), np.full(2, 50.0), np.full(6, 0.1)]
    whole = _daemon(tmp_path / "w", **kw)
    expected, _ = decide(whole.bank, whole.persistence, ["a"] * scores.size, scores)
    first = _daemon(tmp_path, **kw)
    head, _ = decide(first.bank, first.persistence, ["a"] * 10, scores[:10])
    first.save_checkpoint()
    assert checkpoint_as_format1(tmp_path / "s.json")["persistence"]["params"] == {"m": 2, "n": 3, "release": 3}
    again = _daemon(tmp_path, **kw)
    tail, _ = decide(again.bank, again.persistence, ["a"] * 9, scores[10:])
    assert np.array_equal(np.r_[head, tail], expected) and expected.sum() == 9


def test_a_checkpoint_from_before_persistence_restores_only_under_the_raw_alarm(tmp_path):
    old = _daemon(tmp_path)
    old.bank.process(["a"] * 50, np.linspace(0.0, 1.0, 50))
    old.save_checkpoint()
    state = checkpoint_as_format1(tmp_path / "s.json")
    for key in ("persist_m", "persist_n", "release_windows"):
        del state["threshold_config"][key]
    del state["persistence"]
    (tmp_path / "s.json").write_text(json.dumps(state))
    assert _daemon(tmp_path).bank.assets == ["a"]
    assert _daemon(tmp_path, persist_m=3, persist_n=5).bank.assets == []


def test_forget_drops_an_assets_history():
    from pipelines.threshold.persistence import Persistence

    p = Persistence(2, 3, 2)
    p.process(["a", "a", "b"], np.array([True, True, True]))
    p.forget(["a"])
    assert list(p.state()["assets"]) == ["b"]
    assert p.process(["a"], np.array([True])).tolist() == [False]  # one alarm of 2 needed: its history is gone
