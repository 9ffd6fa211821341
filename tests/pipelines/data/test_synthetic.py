"""The simulated plant: reproducible for a seed, and its faults exactly where (and on the sensor) its labels say."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.data.synthetic import FAULT_KINDS, SENSORS, PlantSpec, make_plant

SMALL = PlantSpec(normal_days=1.0, test_days=1.0)


def test_the_same_seed_gives_the_same_plant_and_another_seed_another():
    a, b, c = make_plant(SMALL), make_plant(SMALL), make_plant(PlantSpec(normal_days=1.0, test_days=1.0, seed=1))
    for ra, rb in zip(a, b, strict=True):
        np.testing.assert_array_equal(ra.values, rb.values)
        np.testing.assert_array_equal(ra.anomaly, rb.anomaly)
        assert ra.faults == rb.faults
    assert not np.allclose(a[0].values, c[0].values)


def test_shape_time_and_the_normal_period():
    runs = make_plant(SMALL)
    assert [r.name for r in runs] == ["pump-1", "pump-2", "pump-3", "pump-4"]
    for r in runs:
        assert r.values.shape == (2 * 1440, len(SENSORS)) and np.isfinite(r.values).all()
        assert (np.diff(r.timestamps).astype(np.int64) == 60).all()
        assert r.normal_rows == 1440 and not r.anomaly[: r.normal_rows].any() and not r.changepoint[:1440].any()


def test_the_sensors_are_correlated_and_follow_a_daily_cycle():
    r = make_plant(PlantSpec(normal_days=2.0, test_days=0.5))[0]
    normal = r.values[: r.normal_rows]
    corr = np.corrcoef(normal.T)
    assert (np.abs(corr[np.triu_indices(len(SENSORS), 1)]) > 0.5).mean() > 0.8  # a few latent variables drive them
    flow = normal[:, SENSORS.index("flow")]
    day = 1440
    assert np.corrcoef(flow[:day], flow[day : 2 * day])[0, 1] > 0.5  # one day looks like the next


def test_every_kind_is_injected_twice_on_a_sensor_of_its_own_per_asset():
    runs = make_plant(SMALL)
    kinds = sorted(f.kind for r in runs for f in r.faults)
    assert kinds == sorted(FAULT_KINDS * 2)
    for r in runs:
        assert len({f.sensor for f in r.faults}) == len(r.faults)
        assert all(r.normal_rows <= f.start < f.end <= len(r) for f in r.faults)


def test_the_faults_change_only_the_labelled_rows_of_the_named_sensor():
    faulty, clean = make_plant(SMALL), make_plant(SMALL, inject=False)
    for f_run, c_run in zip(faulty, clean, strict=True):
        changed = f_run.values != c_run.values
        expected = np.zeros_like(changed)
        for f in f_run.faults:
            expected[f.start : f.end, SENSORS.index(f.sensor)] = True
        assert not (changed & ~expected).any(), f"{f_run.name}: a row or sensor outside the labels changed"
        np.testing.assert_array_equal(f_run.anomaly, expected.any(axis=1).astype(np.int64))
        assert f_run.changepoint.sum() == len(f_run.faults)
        np.testing.assert_array_equal(f_run.anomaly, c_run.anomaly)


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_kind_has_its_shape(kind):
    faulty, clean = make_plant(SMALL), make_plant(SMALL, inject=False)
    (run, c_run, f) = next((r, c, f) for r, c in zip(faulty, clean, strict=True) for f in r.faults if f.kind == kind)
    ch = SENSORS.index(f.sensor)
    got, base = run.values[f.start : f.end, ch], c_run.values[f.start : f.end, ch]
    sd = c_run.values[: c_run.normal_rows, ch].std()
    diff = got - base
    if kind == "step":
        np.testing.assert_allclose(diff, diff[0])
        assert diff[0] == pytest.approx(3.0 * sd, rel=0.05)
    elif kind == "drift":
        assert (np.diff(diff) > 0).all() and diff[-1] == pytest.approx(4.0 * sd, rel=0.05)
    elif kind == "stuck":
        assert (got == got[0]).all() and not (base == base[0]).all()
    else:
        hit = diff != 0
        assert 0.15 < hit.mean() < 0.6 and hit[0]
        assert np.abs(diff[hit]) == pytest.approx(np.full(hit.sum(), 6.0 * sd), rel=0.05)


def test_a_bad_spec_names_the_field():
    with pytest.raises(ValueError, match="assets=0"):
        PlantSpec(assets=0)
    with pytest.raises(ValueError, match="faults_per_asset=9"):
        PlantSpec(faults_per_asset=9)
