"""A run's files: what is written reads back the same; a broken folder names what is wrong."""

from __future__ import annotations

import numpy as np
import pytest

from latentwatch.report.read import RunFilesError, labels_from_records, read_files, write_files
from tests.latentwatch.report.conftest import make_run


@pytest.mark.parametrize("traced", [True, False])
def test_files_read_back_the_run(tmp_path, traced):
    run = make_run(traced)
    back = read_files(write_files(run, tmp_path / "run"))
    assert back.alerts == run.alerts and back.settings == run.settings and back.scores == run.scores
    assert sorted(back.series) == sorted(run.series)
    for asset, s in run.series.items():
        b = back.series[asset]
        assert np.array_equal(b.ts_ms, s.ts_ms) and np.array_equal(b.y, s.y)
        for name in ("score", "threshold", "alarm"):
            got, want = getattr(b, name), getattr(s, name)
            assert (got is None) == (want is None) and (want is None or np.array_equal(got, want))
        assert sorted(b.components) == sorted(s.components)


def test_a_missing_file_is_named(tmp_path):
    folder = write_files(make_run(), tmp_path / "run")
    (folder / "windows.csv").unlink()
    with pytest.raises(RunFilesError, match="windows.csv"):
        read_files(folder)


def test_a_half_empty_column_is_named(tmp_path):
    folder = write_files(make_run(), tmp_path / "run")
    lines = (folder / "windows.csv").read_text().splitlines()
    cells = lines[5].split(",")
    cells[3] = ""  # one window without its score
    lines[5] = ",".join(cells)
    (folder / "windows.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(RunFilesError, match="'score' is empty in some rows of asset 'pump/1'"):
        read_files(folder)


def test_labels_come_from_the_records_the_daemon_would_accept():
    from daemon.inmemory import Record
    from daemon.wire.binary_codec import serialize_binary
    from tests.daemon.helpers import window

    values = [
        window("a", 2000, meta={"label": 1}),
        window("a", 1000, meta={"label": 0}),
        serialize_binary("b", 1500, [0.0, 1.0], {"label": 1}),
        b"{not json",
        window("b", 500),  # no label
    ]
    got = labels_from_records([Record("t", 0, i, b"k", v) for i, v in enumerate(values)])
    assert got["a"].ts_ms.tolist() == [1000, 2000] and got["a"].y.tolist() == [0, 1]
    assert got["b"].ts_ms.tolist() == [500, 1500] and got["b"].y.tolist() == [-1, 1]
