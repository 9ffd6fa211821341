import numpy as np
import pytest

from pipelines.model.scaler import Scaler


def test_near_constant_feature_cannot_explode_later():
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(5, 2, 500), np.full(500, 230.0) + rng.normal(0, 1e-9, 500)]
    s = Scaler.fit(X, clip=10.0)
    moved = s.transform(np.array([[5.0, 180.0]]))
    naive = (180.0 - X[:, 1].mean()) / X[:, 1].std()
    assert abs(naive) > 1e6
    assert abs(moved[0, 1]) == pytest.approx(10.0)
    assert s.scale[1] >= 1e-3 * 230.0


def test_ordinary_feature_is_z_scored():
    rng = np.random.default_rng(1)
    X = rng.normal(3, 4, size=(2000, 3))
    Z = Scaler.fit(X).transform(X)
    np.testing.assert_allclose(Z.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(Z.std(0), 1, atol=1e-3)


def test_round_trip_through_arrays():
    X = np.random.default_rng(2).normal(size=(50, 4))
    s = Scaler.fit(X, clip=7)
    t = Scaler.from_arrays(s.to_arrays())
    np.testing.assert_array_equal(s.transform(X), t.transform(X))
    assert t.clip == 7


@pytest.mark.parametrize("X, msg", [(np.ones((1, 3)), "at least 2 rows"), (np.array([[1.0, np.nan], [2, 3]]), "NaN")])
def test_bad_training_data(X, msg):
    with pytest.raises(ValueError, match=msg):
        Scaler.fit(X)


def test_stored_zero_scale_is_refused():
    with pytest.raises(ValueError, match="scale"):
        Scaler.from_arrays({"center": np.zeros(2), "scale": np.array([1.0, 0.0]), "clip": np.array([10.0])})


def test_minmax_maps_training_rows_to_unit_range_and_survives_constant_columns():
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(5, 3, 200), rng.integers(0, 2, 200), np.full(200, 7.0)]
    sc = Scaler.fit(X, clip=10.0, method="minmax")
    Z = sc.transform(X)
    assert np.allclose(Z[:, :2].min(0), 0) and np.allclose(Z[:, :2].max(0), 1)
    assert np.isfinite(Z).all() and np.allclose(Z[:, 2], 0)
    assert sc.scale[2] >= 1e-3 * 7.0  # the same floor as z-scoring
    assert sc.transform(np.array([[1e9, 0, 7]]))[0, 0] == 10.0  # clipped
    again = Scaler.from_arrays(sc.to_arrays())  # stored in the same form as a z-score scaler
    np.testing.assert_array_equal(again.transform(X), Z)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="method"):
        Scaler.fit(np.zeros((3, 2)), method="robust")


def _plant(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Training rows with a sparse stage bit (what z-scoring blows up), a heavy tail, a near-constant and a constant
    column; test rows far outside the training range on every column (the clip acts)."""
    rng = np.random.default_rng(seed)
    X = np.c_[
        rng.normal(5, 3, 400),
        rng.random(400) < 0.02,
        rng.standard_t(2, 400),
        230.0 + rng.normal(0, 1e-9, 400),
        np.full(400, 7.0),
    ]
    T = rng.normal(0, 1, (300, 5)) * [30, 3, 100, 10, 5] + X.mean(0)
    return X, T


@pytest.mark.parametrize("method", ["zscore", "minmax"])
def test_then_range_gives_the_same_input_whatever_the_scaler_and_the_units(method):
    """The same rows under either method, and in other units (a per-feature factor: the floors scale with it)."""
    X, T = _plant()
    a = np.array([3.0, 1e-3, 250.0, 2.0, 0.5])
    want = Scaler.fit(X, method="minmax").transform(T)
    np.testing.assert_allclose(Scaler.fit(X, method=method, then_range=True).transform(T), want, rtol=0, atol=1e-6)
    got = Scaler.fit(a * X, method=method, then_range=True).transform(a * T)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    assert np.abs(want).max() == 10.0  # the clip applies after the composition, in the model's input space


def test_then_range_is_exactly_min_max_for_min_max_and_changes_z_scoring():
    X, T = _plant()
    mm = Scaler.fit(X, method="minmax")
    ranged = Scaler.fit(X, method="minmax", then_range=True)
    np.testing.assert_array_equal(ranged.center, mm.center)
    np.testing.assert_array_equal(ranged.scale, mm.scale)
    plain_z = Scaler.fit(X, method="zscore").transform(T)
    assert np.abs(plain_z - mm.transform(T)).max() > 1.0  # without it the scaler's choice reaches the model
