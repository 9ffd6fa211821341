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
