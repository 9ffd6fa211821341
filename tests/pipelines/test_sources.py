import numpy as np
import pytest

from pipelines.data.windowing import window_vectors
from pipelines.sources import WindowSpec, normal_windows, streams


def test_skab_streams_are_per_run_windows_in_time_order():
    spec = WindowSpec(length=10, stride=5)
    s = streams("skab", spec=spec)
    assert len(s) == 34 and s[0].asset == "skab/valve1/0"
    assert s[0].X.shape[1] == 40
    assert all((np.diff(x.ts_ms) > 0).all() for x in s)
    assert all(len(x.X) == len(x.y) == len(x.ts_ms) for x in s)


def test_skab_training_windows_hold_no_labelled_anomaly():
    spec = WindowSpec(length=10, stride=10)
    X = normal_windows("skab", spec=spec)
    from pipelines.data import load_skab_anomaly_free

    free = window_vectors(load_skab_anomaly_free().values, 10, 10, "summary")
    assert len(X) > len(free)
    np.testing.assert_array_equal(X[: len(free)], free)


def test_tabular_streams_group_rows_by_asset_and_keep_labels():
    s = streams("mi-f")
    assert len(s) == 18
    assert sum(len(x.X) for x in s) == 25_286
    assert sum(int(x.y.sum()) for x in s) == 2_161
    assert normal_windows("mi-f").shape == (25_286 - 2_161, 58)


def test_multiclass_normal_class_is_selectable():
    assert normal_windows("snsr", normal_class=3).shape == (200, 48)


def test_unknown_source_names_the_choices():
    with pytest.raises(ValueError, match="unknown source 'x'.*skab"):
        streams("x")
