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
    base = explain.neighbour_gains(ref, model, GROUPS, np.array([[0, 1, 2]]), k=2)
    np.testing.assert_allclose(base, [[-5.0, -5.0]])  # medians of (-1, -9)
    np.testing.assert_allclose(explain.shares(gain, base, E), [[0.0, 1.0]])  # excess (0, 13)


def test_item_gains_are_computed_once_per_reference_and_groups():
    model = FollowsB()
    ref = SimpleNamespace(latents=np.array([[1.0], [2.0]], dtype=np.float32))
    first = explain.item_gains(ref, model, GROUPS)
    np.testing.assert_allclose(first, [[-1.0, -1.0], [-4.0, -4.0]])
    used = model.decoded
    assert explain.item_gains(ref, model, GROUPS) is first and model.decoded == used
    one = np.array([0, 0])  # other groups: computed again ((z, z) -> (0, 0) is still reconstructed exactly)
    np.testing.assert_allclose(explain.item_gains(ref, model, one), [[0.0], [0.0]])
    assert model.decoded > used


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
    return hit_rates(ExplainBench(epochs=40))


@pytest.mark.parametrize("kind", ["step", "drift"])
def test_the_faulty_sensor_ranks_first_in_90_percent_of_the_windows_its_fault_alarms(rates, kind):
    r = rates["kinds"][kind]
    assert r["alarmed"] > 1000, r
    assert r["hit_rate"] >= 0.9, r


def test_stuck_sensors_are_named_first_in_most_windows(rates):
    # measured 0.882 at 60 epochs (README: stuck Temperature, Thermocouple and Volume Flow are the misses); the
    # goal of 0.9 is not met: this guards the level reached
    r = rates["kinds"]["stuck"]
    assert r["alarmed"] > 1000 and r["hit_rate"] >= 0.85, r
