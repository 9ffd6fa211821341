from __future__ import annotations

import numpy as np
import pytest

from pipelines.data.windowing import (
    SUMMARY_STATS,
    window_end_index,
    window_feature_names,
    window_labels,
    window_vectors,
)

# 5 rows, 2 channels
V = np.array([[1.0, 10.0], [3.0, 10.0], [2.0, 40.0], [6.0, 20.0], [0.0, 30.0]])


def test_summary_stats_are_named_in_order():
    assert SUMMARY_STATS == ("mean", "std", "min", "max", "delta")


@pytest.mark.parametrize(
    ("n", "length", "stride", "m"),
    [(5, 3, 1, 3), (5, 3, 2, 2), (5, 3, 3, 1), (5, 5, 1, 1), (10, 4, 3, 3), (10, 1, 1, 10), (7, 2, 10, 1)],
)
def test_shapes(n, length, stride, m):
    values = np.arange(n * 3, dtype=float).reshape(n, 3)
    assert window_vectors(values, length, stride, "flatten").shape == (m, length * 3)
    assert window_vectors(values, length, stride, "summary").shape == (m, 5 * 3)
    assert window_labels(np.zeros(n), length, stride).shape == (m,)
    assert window_end_index(n, length, stride).shape == (m,)


def test_summary_exact_values():
    out = window_vectors(V, 3, 2)  # summary is the default; windows = rows 0..2 and rows 2..4
    # channel 0: [1,3,2] -> mean 2, std sqrt(2/3), min 1, max 3, last-first 1; channel 1: [10,10,40] -> 20, sqrt(200)...
    expected = np.array(
        [
            [2.0, np.sqrt(2 / 3), 1.0, 3.0, 1.0, 20.0, np.sqrt(200.0), 10.0, 40.0, 30.0],
            [8 / 3, np.std([2.0, 6.0, 0.0]), 0.0, 6.0, -2.0, 30.0, np.sqrt(200 / 3), 20.0, 40.0, -10.0],
        ]
    )
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert out.dtype == np.float64


def test_summary_matches_a_per_window_loop():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(50, 4))
    out = window_vectors(values, 7, 3, "summary")
    for i, row in enumerate(out):
        w = values[i * 3 : i * 3 + 7]
        ref = np.stack([w.mean(0), w.std(0), w.min(0), w.max(0), w[-1] - w[0]], axis=1).ravel()
        np.testing.assert_allclose(row, ref, rtol=1e-12, atol=1e-15)


def test_flatten_is_row_major_time_by_channel():
    out = window_vectors(V, 2, 3, "flatten")
    np.testing.assert_array_equal(out, [[1.0, 10.0, 3.0, 10.0], [6.0, 20.0, 0.0, 30.0]])
    rng = np.random.default_rng(1)
    values = rng.normal(size=(40, 3))
    for length, stride in [(5, 1), (5, 4), (8, 3)]:
        out = window_vectors(values, length, stride, "flatten")
        for i in range(out.shape[0]):
            np.testing.assert_array_equal(out[i], values[i * stride : i * stride + length].ravel())


def test_output_is_a_fresh_array_and_input_may_be_read_only():
    values = V.copy()
    values.flags.writeable = False
    out = window_vectors(values, 2, 1, "flatten")
    out[0, 0] = 99.0
    assert values[0, 0] == 1.0
    assert window_vectors(values, 2, 1, "summary").flags.writeable


def test_integer_input_is_cast():
    out = window_vectors(np.array([[1], [2], [4]]), 2, 1)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out[:, [0, 4]], [[1.5, 1.0], [3.0, 2.0]])


def test_label_rule_any_row_in_the_window():
    labels = np.array([0, 0, 0, 1, 0, 0, 0, 0])
    assert window_labels(labels, 3, 1).tolist() == [0, 1, 1, 1, 0, 0]
    assert window_labels(labels, 2, 2).tolist() == [0, 1, 0, 0]  # rows 2..3 hold the anomaly
    assert window_labels(labels, 3, 3).tolist() == [0, 1]  # last two rows dropped
    assert window_labels(labels.astype(float) * 2.0, 3, 1).tolist() == [0, 1, 1, 1, 0, 0]  # any non-zero
    assert window_labels(np.array([True, False]), 1, 1).dtype == np.int64


def test_end_index():
    assert window_end_index(10, 4, 3).tolist() == [3, 6, 9]
    assert window_end_index(9, 4, 3).tolist() == [3, 6]
    # the end index is the last row of the flattened window
    values = np.arange(20.0).reshape(10, 2)
    flat = window_vectors(values, 4, 3, "flatten")
    np.testing.assert_array_equal(flat[:, -2:], values[window_end_index(10, 4, 3)])


def test_feature_names_match_columns():
    assert window_feature_names(["a", "b"], 2, "flatten") == ("a[0]", "b[0]", "a[1]", "b[1]")
    names = window_feature_names(("a", "b"), 9, "summary")
    assert names[:5] == ("a:mean", "a:std", "a:min", "a:max", "a:delta") and names[5] == "b:mean"
    assert len(names) == window_vectors(np.zeros((9, 2)), 9, 1).shape[1]
    assert window_feature_names(["a", "b"], 2) == window_feature_names(["a", "b"], 7)  # summary ignores length


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"length": 0, "stride": 1}, "length"),
        ({"length": 2, "stride": 0}, "stride"),
        ({"length": 6, "stride": 1}, "fewer than"),
        ({"length": 2, "stride": 1, "mode": "fft"}, "mode"),
        ({"length": 2.0, "stride": 1}, "length"),
        ({"length": True, "stride": 1}, "length"),
        ({"length": 2, "stride": -1}, "stride"),
    ],
)
def test_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        window_vectors(V, **kwargs)


def test_errors_in_the_other_functions():
    with pytest.raises(ValueError, match="2-D"):
        window_vectors(np.zeros(5), 2, 1)
    with pytest.raises(ValueError, match="1-D"):
        window_labels(np.zeros((5, 1)), 2, 1)
    with pytest.raises(ValueError, match="fewer than"):
        window_labels(np.zeros(3), 4, 1)
    with pytest.raises(ValueError, match="stride"):
        window_end_index(5, 2, 0)
    with pytest.raises(ValueError, match="mode"):
        window_feature_names(["a"], 2, "raw")
    with pytest.raises(ValueError, match="length"):
        window_feature_names(["a"], 0, "flatten")
