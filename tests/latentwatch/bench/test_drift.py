"""`latentwatch bench drift` runs end to end at a small scale: one row per setting, the shift found."""

from __future__ import annotations

import argparse

from latentwatch.bench import drift as bench_drift


def test_bench_drift_times_every_setting_and_finds_the_shift(capsys):
    p = argparse.ArgumentParser()
    bench_drift.add_arguments(p)
    assert bench_drift.run(p.parse_args(["--windows", "4000", "--assets", "1", "4", "--every", "1", "2"])) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert len(rows) == 2 * 2 * 2  # assets x detectors x every
    assert all(float(r[3]) > 0 for r in rows)
    assert all(int(r[5]) >= 1 for r in rows if r[:3] == ["adwin", "1", "1"])  # the level shift half way
