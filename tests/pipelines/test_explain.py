"""Alerts name the sensors: the share formula, and injected single-sensor faults on real SKAB normal data."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from pipelines import explain
from pipelines.bench.explain import ExplainBench, hit_rates, inject


def test_feature_names_group_into_channels():
    names, of = explain.feature_groups(["Current:mean", "Current:std", "Flow[0]", "Current:max", "Flow[1]", "rpm"])
    assert names == ["Current", "Flow", "rpm"]
    np.testing.assert_array_equal(of, [0, 0, 1, 0, 1, 2])


def _ref(group_err, err_groups):
    return SimpleNamespace(group_err=np.asarray(group_err, dtype=np.float32), err_groups=np.asarray(err_groups))


def test_share_is_the_excess_over_the_neighbours_median_error_per_channel():
    groups = np.array([0, 0, 1])  # features 0, 1 are channel 0; feature 2 is channel 1
    x, xhat = np.array([[3.0, 0.0, 2.0]]), np.zeros((1, 3), dtype=np.float32)  # E = [9, 4]
    # reference stores per-feature errors: neighbours' channel errors are [1, 4], [2, 4], [9, 9]
    ref = _ref([[1, 0, 4], [1, 1, 4], [4, 5, 9]], [0, 1, 2])
    s = explain.shares(x, xhat, np.array([[0, 1, 2]]), ref, groups, k=3)
    np.testing.assert_allclose(s, [[1.0, 0.0]])  # medians [2, 4]: excess [7, 0]
    # the same neighbours stored per channel give the same shares
    by_channel = _ref([[1, 4], [2, 4], [9, 9]], [0, 0, 1])
    np.testing.assert_allclose(explain.shares(x, xhat, np.array([[0, 1, 2]]), by_channel, groups, k=3), s)
    # only the first k neighbours count
    # (medians [9, 9]: no excess anywhere, so the shares of the raw error)
    np.testing.assert_allclose(explain.shares(x, xhat, np.array([[2, 2, 0]]), by_channel, groups, k=2),
                               [[9 / 13, 4 / 13]])


def test_old_reference_without_group_errors_uses_the_raw_error():
    s = explain.shares(np.array([[1.0, 1.0, 2.0]]), np.zeros((1, 3), dtype=np.float32), np.zeros((1, 2), int),
                       SimpleNamespace(group_err=None), np.array([0, 0, 1]), k=2)
    np.testing.assert_allclose(s, [[2 / 6, 4 / 6]])
    idx, share = explain.top(np.array([[0.2, 0.5, 0.3]]), 2)
    np.testing.assert_array_equal(idx, [[1, 2]])
    np.testing.assert_allclose(share, [[0.5, 0.3]])


def test_injections_touch_only_the_chosen_sensor_from_the_onset():
    v = np.random.default_rng(0).normal(size=(50, 3))
    for kind in ("step", "drift", "stuck"):
        out = inject(v, 1, kind, 20, 4.0, 2.0)
        np.testing.assert_array_equal(np.delete(out, 1, axis=1), np.delete(v, 1, axis=1))
        np.testing.assert_array_equal(out[:20], v[:20])
        assert not np.array_equal(out[21:, 1], v[21:, 1])
    np.testing.assert_allclose(inject(v, 1, "step", 20, 4.0, 2.0)[20:, 1] - v[20:, 1], 8.0)
    assert (inject(v, 1, "stuck", 20, 4.0, 2.0)[20:, 1] == v[20, 1]).all()


@pytest.fixture(scope="module")
def rates():
    return hit_rates(ExplainBench(epochs=40))


@pytest.mark.parametrize("kind", ["step", "drift"])
def test_the_faulty_sensor_ranks_first_in_90_percent_of_the_windows_its_fault_alarms(rates, kind):
    r = rates["kinds"][kind]
    assert r["alarmed"] > 1000, r
    assert r["hit_rate"] >= 0.9, r


def test_stuck_sensors_are_named_less_reliably(rates):
    # measured 0.71 (docs in README: a stuck Voltage is blamed on Current, which the model couples it with);
    # the goal of 0.9 is not met: this guards the level reached
    r = rates["kinds"]["stuck"]
    assert r["alarmed"] > 1000 and r["hit_rate"] >= 0.6, r
