"""Alerts name the sensors: the share formula, and injected single-sensor faults on real SKAB normal data."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from latentwatch.bench.explain import ExplainBench, hit_rates, inject
from pipelines import explain


def test_feature_names_group_into_channels():
    names, of = explain.feature_groups(["Current:mean", "Current:std", "Flow[0]", "Current:max", "Flow[1]", "rpm"])
    assert names == ["Current", "Flow", "rpm"]
    np.testing.assert_array_equal(of, [0, 0, 1, 0, 1, 2])


class FollowsB:
    """A stand-in autoencoder over two channels (A = feature 0, B = feature 1) that reads only B and reconstructs
    both from it: normal windows have A = B; a fault in B is followed, and A takes the reconstruction error."""

    def __init__(self) -> None:
        self.decoded = 0

    def encode_scaled(self, Xs):
        z = np.asarray(Xs, dtype=np.float32)[:, 1:2]
        xhat = self.decode(z)
        return z, xhat, ((xhat - Xs) ** 2).sum(axis=1).astype(np.float64)

    def decode(self, Z):
        self.decoded += len(Z)
        return np.repeat(np.asarray(Z, dtype=np.float32), 2, axis=1)


GROUPS = np.array([0, 1])
NO_SPREAD = explain.spread_plan(["A", "B"], GROUPS)


def test_a_fault_the_model_follows_is_named_not_the_partner_it_distorts():
    model, x = FollowsB(), np.array([[1.0, 4.0]])  # B moved from 1 to 4; AE(x) = (4, 4)
    _, xhat, err = model.encode_scaled(x)
    E = explain.channel_errors(x, xhat, GROUPS)
    np.testing.assert_allclose(E, [[9.0, 0.0]])  # the per-channel error blames A alone
    # repairing B: (1, 0) -> AE (0, 0), error 1, gain 8; repairing A: (0, 4) -> AE (4, 4), error 16, gain -7
    gain = explain.repair_gains(model, x, GROUPS, err)
    np.testing.assert_allclose(gain, [[-7.0, 8.0]])
    # neighbours decoded at z = 1 and 3: (z, z) repaired on either channel keeps error z^2, gain -z^2
    ref = SimpleNamespace(latents=np.array([[1.0], [3.0], [9.0]], dtype=np.float32))
    base, spread = explain.neighbour_stats(ref, model, GROUPS, NO_SPREAD, np.array([[0, 1, 2]]), k=2)
    np.testing.assert_allclose(base, [[-5.0, -5.0]])  # medians of (-1, -9)
    np.testing.assert_array_equal(spread, 0.0)  # features without a window have no spread
    np.testing.assert_allclose(explain.shares(gain, base, E), [[0.0, 1.0]])  # excess (0, 13)


def test_item_stats_are_computed_once_per_reference_and_groups():
    model = FollowsB()
    ref = SimpleNamespace(latents=np.array([[1.0], [2.0]], dtype=np.float32))
    first = explain.item_stats(ref, model, GROUPS, NO_SPREAD)
    np.testing.assert_allclose(first, [[-1.0, -1.0, 0, 0], [-4.0, -4.0, 0, 0]])  # gains, then spreads
    used = model.decoded
    assert explain.item_stats(ref, model, GROUPS, NO_SPREAD) is first and model.decoded == used
    one = np.array([0, 0])  # other groups: computed again; (z, z) -> (0, 0) is still reconstructed exactly, and
    # as one channel's two positions its spread is sqrt(2 (z - z)^2) = 0
    again = explain.item_stats(ref, model, one, explain.spread_plan(["c[0]", "c[1]"], one))
    np.testing.assert_allclose(again, [[0.0, 0.0], [0.0, 0.0]])
    assert model.decoded > used


def test_spreads_come_from_the_std_feature_or_from_a_channels_positions():
    _, of = explain.feature_groups(["a:mean", "a:std", "b:mean", "b:std", "rpm"])
    plan = explain.spread_plan(["a:mean", "a:std", "b:mean", "b:std", "rpm"], of)
    np.testing.assert_array_equal(plan.std_col, [1, 3, -1])
    X = np.array([[9.0, 0.5, 9.0, -2.0, 7.0]])
    np.testing.assert_allclose(explain.spreads(X, of, plan), [[0.5, -2.0, 0.0]])  # 'rpm' has none
    flat = ["a[0]", "b[0]", "a[1]", "b[1]", "a[2]", "b[2]"]
    _, of = explain.feature_groups(flat)
    X = np.array([[1.0, 5.0, 2.0, 5.0, 3.0, 5.0]])  # a varies (1, 2, 3), b is stuck at 5
    np.testing.assert_allclose(explain.spreads(X, of, explain.spread_plan(flat, of)), [[np.sqrt(2.0), 0.0]])
    with pytest.raises(ValueError, match="3 feature names for 6"):
        explain.spread_plan(flat[:3], of)


def test_a_spread_deficit_adds_its_square_to_the_excess():
    gain, base, err = np.array([[4.0, 3.0]]), np.zeros((1, 2)), np.ones((1, 2))
    np.testing.assert_allclose(explain.shares(gain, base, err, np.array([[0.0, 0.0]])), [[4 / 7, 3 / 7]])
    np.testing.assert_allclose(explain.shares(gain, base, err, np.array([[0.0, 3.0]])), [[4 / 16, 12 / 16]])


def test_shares_fall_back_to_positive_gains_then_to_errors():
    gain, err = np.array([[5.0, 3.0], [1.0, 3.0], [-1.0, -2.0], [0.0, 0.0]]), np.array([[1.0, 1.0]] * 3 + [[0, 0]])
    base = np.array([[4.0, 0.0], [2.0, 4.0], [0.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(explain.shares(gain, base, err), [[0.25, 0.75], [0.25, 0.75], [0.5, 0.5], [0.0, 0.0]])
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
    return hit_rates(ExplainBench(epochs=40, scorer="ares", input_norm="scaler"))


@pytest.fixture(scope="module")
def range_rates():
    return hit_rates(ExplainBench(epochs=40, scorer="rank-mean", input_norm="range"))


@pytest.mark.parametrize("kind, level", [("step", 0.99), ("drift", 0.95), ("stuck", 0.93)])
def test_the_faulty_sensor_ranks_first_in_90_percent_of_the_windows_its_fault_alarms(rates, kind, level):
    """In the papers' setup (ares on the scaler alone), which the repair to the scaler's centre was
    made for. The goal is 0.9 for each; the levels guard what the test's 40 epochs reach (README: 99.9, 96.6,
    96.0 %)."""
    r = rates["kinds"][kind]
    assert r["alarmed"] > 1000, r
    assert r["hit_rate"] >= level, r


@pytest.mark.parametrize("kind, level", [("step", 0.99), ("drift", 0.87), ("stuck", 0.84)])
def test_under_the_range_input_the_rates_stay_where_they_were_measured(range_rates, kind, level):
    """rank-mean on input_norm "range" (the default: the rule's pick under that input) falls short of the
    0.9 goal on drift and stuck: with the range input, 0 (the repair point) is each feature's training minimum, not
    its mean (README, "The default scorer"; measured at 40 epochs: drift 0.894, stuck 0.862). The levels guard
    against it getting worse."""
    r = range_rates["kinds"][kind]
    assert r["alarmed"] > 1000, r
    assert r["hit_rate"] >= level, r
