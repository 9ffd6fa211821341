"""The split rule and the arrangements of the ARES protocol (pipelines/evaluate/protocol.py)."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.evaluate.protocol import Arrangement, arrangements, make_split


def labels(n_normal: int, n_anomaly: int, seed: int = 0) -> np.ndarray:
    y = np.r_[np.zeros(n_normal, np.int64), np.ones(n_anomaly, np.int64)]
    return np.random.default_rng(seed).permutation(y)


@pytest.mark.parametrize("n_normal,n_anomaly", [(1000, 100), (1000, 700), (200, 2000), (23125, 2161)])
def test_split_rule_sizes_and_balance(n_normal, n_anomaly):
    y = labels(n_normal, n_anomaly)
    sp = make_split(y, Arrangement("x", "labels"), seed=3)
    n_test = min(n_anomaly, n_normal // 2)
    assert (sp.y_test == 1).sum() == (sp.y_test == 0).sum() == n_test  # exactly 50:50
    assert np.array_equal(y[sp.test], sp.y_test)  # y_test is the true label of each test row
    rest = n_normal - n_test
    assert len(sp.val) == round(0.2 * rest) and len(sp.train) == rest - len(sp.val)  # 80:20 of the remaining normals
    assert sp.sizes() == {"train": len(sp.train), "val": len(sp.val), "test_normal": n_test, "test_anomaly": n_test}


def test_no_anomaly_in_train_or_val_and_all_parts_disjoint():
    y = labels(3000, 400)
    sp = make_split(y, Arrangement("x", "labels"), seed=0)
    assert (y[sp.train] == 0).all() and (y[sp.val] == 0).all()
    parts = [set(sp.train.tolist()), set(sp.val.tolist()), set(sp.test.tolist())]
    assert sum(map(len, parts)) == len(set().union(*parts))  # no row in two parts, no row twice
    # every normal row is used (test, train or val); anomalies beyond n_test are simply not used
    assert set(np.flatnonzero(y == 0)) <= set().union(*parts)
    for a in (sp.train, sp.val, sp.test):
        assert np.all(np.diff(a) > 0)


def test_split_is_deterministic_by_seed_and_differs_across_seeds_and_arrangements():
    y = np.repeat(np.arange(4), 150)
    uni0 = Arrangement("m", "unimodal", 0, "a")
    a, b = make_split(y, uni0, seed=7), make_split(y, uni0, seed=7)
    for f in ("train", "val", "test", "y_test"):
        assert np.array_equal(getattr(a, f), getattr(b, f))
    c = make_split(y, uni0, seed=8)
    assert not np.array_equal(a.test, c.test)
    d = make_split(y, Arrangement("other", "unimodal", 0, "a"), seed=7)
    assert not np.array_equal(a.test, d.test)  # the data set/arrangement name is part of the seed


def test_unimodal_and_multimodal_masks():
    y = np.repeat(np.arange(3), [10, 20, 30])
    uni = Arrangement("m", "unimodal", 1, "b")
    multi = Arrangement("m", "multimodal", 1, "b")
    assert np.array_equal(uni.normal_mask(y), y == 1)
    assert np.array_equal(multi.normal_mask(y), y != 1)
    sp = make_split(y, uni, seed=0)  # 20 normals, 40 anomalies -> 10 + 10 test
    assert sp.sizes()["test_normal"] == 10 and set(y[sp.train]) == {1} and set(y[sp.val]) == {1}
    assert set(y[sp.test[sp.y_test == 1]]) <= {0, 2}
    sp = make_split(y, multi, seed=0)  # 40 normals (classes 0, 2), 20 anomalies (class 1)
    assert sp.sizes()["test_anomaly"] == 20 and set(y[sp.train]) | set(y[sp.val]) <= {0, 2}
    assert set(y[sp.test[sp.y_test == 1]]) == {1}


def test_arrangements():
    assert arrangements("mi-f", "single") == [Arrangement("mi-f", "labels")]
    names = ("a", "b", "c")
    arrs = arrangements("s", "multi", names)
    assert [(a.setting, a.cls, a.cls_name) for a in arrs] == [
        ("unimodal", 0, "a"),
        ("unimodal", 1, "b"),
        ("unimodal", 2, "c"),
        ("multimodal", 0, "a"),
        ("multimodal", 1, "b"),
        ("multimodal", 2, "c"),
    ]
    assert len({a.key for a in arrs}) == 6
    assert [(a.setting, a.cls) for a in arrangements("s", "multi", names, max_classes=2)] == [
        ("unimodal", 0),
        ("unimodal", 1),
        ("multimodal", 0),
        ("multimodal", 1),
    ]
    assert {a.setting for a in arrangements("s", "multi", names, settings=("multimodal",))} == {"multimodal"}
    with pytest.raises(ValueError):
        arrangements("s", "multi", names, settings=("bimodal",))


def test_too_small_arrangement_is_an_error_that_names_it():
    y = np.r_[np.zeros(3, np.int64), np.ones(5, np.int64)]
    with pytest.raises(ValueError, match="x/labels"):
        make_split(y, Arrangement("x", "labels"), seed=0)
