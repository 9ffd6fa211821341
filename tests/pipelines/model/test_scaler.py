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
