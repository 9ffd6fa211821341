from __future__ import annotations

import math
import os

import numpy as np
import pytest

from daemon import checkpoint


def test_round_trip_keeps_nan_inf_and_numpy_values(tmp_path):
    p = tmp_path / "state" / "s.json"
    checkpoint.save(
        p,
        {
            "a": math.nan,
            "b": np.float64(2.5),
            "c": np.arange(3),
            "d": math.inf,
            "e": {"packed": [np.array([1.5, math.nan])]},
        },
    )
    s = checkpoint.load(p)
    assert math.isnan(s["a"]) and s["b"] == 2.5 and s["d"] == math.inf
    assert s["c"].dtype == np.int64 and s["c"].tolist() == [0, 1, 2]  # arrays come back as arrays
    np.testing.assert_array_equal(s["e"]["packed"][0], [1.5, math.nan])
    assert s["format"] == checkpoint.FORMAT


def test_a_format_1_checkpoint_still_loads_and_others_are_refused_by_name(tmp_path):
    (tmp_path / "v1.json").write_text('{"format": 1, "committed": {"in:0": 5}}')
    assert checkpoint.load(tmp_path / "v1.json")["committed"] == {"in:0": 5}
    import zipfile

    with zipfile.ZipFile(tmp_path / "v3.json", "w") as z:
        z.writestr("state.json", '{"format": 3}')
    with pytest.raises(ValueError, match=r"v3.json: checkpoint format 3 is not one this daemon reads \(1, 2\)"):
        checkpoint.load(tmp_path / "v3.json")
    with zipfile.ZipFile(tmp_path / "cut.json", "w") as z:
        z.writestr("other", "x")
    with pytest.raises(ValueError, match="cut.json: checkpoint is not a readable format-2 file"):
        checkpoint.load(tmp_path / "cut.json")


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
