"""`latentwatch bench refresh`: the table it prints and the swap measurement it hands to swap.py when present."""

from __future__ import annotations

import argparse
import sys
import types

import numpy as np

import latentwatch.bench.refresh as bench
from latentwatch.bench.refresh import rebuild


def test_the_table_has_every_stage_and_marks_what_was_not_measured():
    lines = bench.table([{"windows": 1000, "read_s": 1.5, "total_s": 3.0, "peak_rss_mb": 700}]).splitlines()
    assert lines[0].split() == list(bench.COLUMNS)
    assert lines[1].split() == ["1000", "1.5", "-", "-", "-", "-", "3.0", "-", "700"]


def test_run_measures_each_size_and_the_swap_when_swap_py_is_there(monkeypatch, capsys, tmp_path):
    sizes = []
    monkeypatch.setattr(rebuild, "train_model", lambda root, trained=False: np.zeros((5, 3)))
    monkeypatch.setattr(rebuild, "measure_rebuild", lambda n, *a: sizes.append(n) or {"windows": n, "total_s": 1})
    swap = types.ModuleType("latentwatch.bench.refresh.swap")
    swap.measure_swap_pause = lambda windows, port=None: {"windows": windows, "port": port, "max_pause_s": 0.2}
    monkeypatch.setitem(sys.modules, "latentwatch.bench.refresh.swap", swap)
    args = argparse.Namespace(windows=[10, 20], bootstrap="127.0.0.1:19999", skip_swap=False, json=False, model=None)
    assert bench.run(args) == 0
    out = capsys.readouterr().out
    assert sizes == [10, 20] and '"max_pause_s": 0.2' in out and '"port": 19999' in out
    assert bench.run(argparse.Namespace(**{**vars(args), "skip_swap": True})) == 0
    assert "swap pause" not in capsys.readouterr().out
