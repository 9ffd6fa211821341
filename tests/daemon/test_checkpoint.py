from __future__ import annotations

import math
import os

import numpy as np
import pytest

from daemon import checkpoint


def test_round_trip_keeps_nan_inf_and_numpy_values(tmp_path):
    p = tmp_path / "state" / "s.json"
    checkpoint.save(p, {"a": math.nan, "b": np.float64(2.5), "c": np.arange(3), "d": math.inf})
    s = checkpoint.load(p)
    assert math.isnan(s["a"]) and s["b"] == 2.5 and s["c"] == [0, 1, 2] and s["d"] == math.inf
    assert s["format"] == checkpoint.FORMAT


def test_missing_is_none_and_garbage_is_an_error(tmp_path):
    assert checkpoint.load(tmp_path / "none.json") is None
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        checkpoint.load(tmp_path / "bad.json")
    (tmp_path / "old.json").write_text('{"format": 99}')
    with pytest.raises(ValueError, match="format 99"):
        checkpoint.load(tmp_path / "old.json")


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    p = tmp_path / "s.json"
    checkpoint.save(p, {"v": 1})

    def boom(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        checkpoint.save(p, {"v": 2})
    monkeypatch.undo()
    assert checkpoint.load(p)["v"] == 1
    assert sorted(x.name for x in tmp_path.iterdir()) == ["s.json"]
