"""The loaders on the real shared data: counts and label semantics from each SOURCE.md."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.data import DATASETS, Dataset, load_dataset, load_skab_anomaly_free, load_skab_runs

EXPECTED = {  # name: (rows, dims, kind, label counts)
    "mi-f": (25_286, 58, "single", [23_125, 2_161]),
    "mi-v": (23_125, 58, "single", [19_183, 3_942]),
    "eopt": (90_515, 18, "single", [80_328, 10_187]),
    "snsr": (2_200, 48, "multi", [200] * 11),
    "nasa": (4_687, 33, "single", [3_932, 755]),
    "stl": (1_941, 27, "multi", [158, 190, 391, 72, 55, 402, 673]),
    "skab": (37_401, 8, "single", [24_334, 13_067]),
}


def test_registry_lists_exactly_the_documented_names():
    assert set(DATASETS) == set(EXPECTED)
    assert all(DATASETS[n].kind == EXPECTED[n][2] for n in EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shape_dtype_and_label_counts(name, real_dir):
    rows, dims, kind, counts = EXPECTED[name]
    d = load_dataset(name, real_dir)
    assert isinstance(d, Dataset) and d.name == name and d.kind == kind
    assert d.X.shape == (rows, dims) and d.X.dtype == np.float64 and np.isfinite(d.X).all()
    assert d.y.shape == (rows,) and d.y.dtype == np.int64
    assert np.bincount(d.y).tolist() == counts
    assert len(d.feature_names) == dims and len(set(d.feature_names)) == dims
    if kind == "multi":
        assert d.class_names is not None and len(d.class_names) == len(counts) == d.n_classes
    if d.groups is not None:
        assert d.groups.shape == (rows,) and d.groups.dtype == np.int64


@pytest.mark.parametrize("name", ["mi-f", "skab"])
def test_cached_and_read_only(name, real_dir):
    a = load_dataset(name, real_dir)
    assert load_dataset(name, str(real_dir)) is a  # str and Path resolve to the same cache entry
    for arr in (a.X, a.y, a.groups):
        with pytest.raises(ValueError):
            arr[0] = 1


def test_unknown_name():
    with pytest.raises(KeyError, match="mi-x"):
        load_dataset("mi-x")


def test_cnc_one_hot_shared_by_both_variants_with_End_and_end_distinct(real_dir):
    f, v = load_dataset("mi-f", real_dir), load_dataset("mi-v", real_dir)
    assert f.feature_names == v.feature_names
    stages = [n.split("=", 1)[1] for n in f.feature_names[47:]]
    assert stages == sorted(stages) and {"End", "end", "Starting", "Prep", "Repositioning"} <= set(stages)
    assert len(stages) == 11
    onehot = f.X[:, 47:]
    assert set(np.unique(onehot)) == {0.0, 1.0} and (onehot.sum(axis=1) == 1).all()
    # 'end' is rare (8 rows) but must stay its own column
    assert onehot[:, stages.index("end")].sum() == 8 and onehot[:, stages.index("End")].sum() == 2_585


def test_cnc_labels_are_per_experiment(real_dir):
    f, v = load_dataset("mi-f", real_dir), load_dataset("mi-v", real_dir)
    assert sorted(np.unique(f.groups[f.y == 1]).tolist()) == [4, 5, 7, 16]
    assert sorted(np.unique(v.groups).tolist()) == [e for e in range(1, 19) if e not in (4, 5, 7, 16)]
    assert sorted(np.unique(v.groups[v.y == 1]).tolist()) == [6, 8, 9, 10]
    sizes = [1055, 1668, 1521, 532, 462, 1296, 565, 605, 740, 1301, 2314, 2276, 2233, 2332, 1381, 602, 2150, 2253]
    assert np.bincount(f.groups, minlength=19)[1:].tolist() == sizes
    # MI-V is exactly the finalised rows of MI-F, in the same order
    np.testing.assert_array_equal(v.X, f.X[np.isin(f.groups, v.groups)])


def test_cnc_first_row_parsed_from_scientific_notation(real_dir):
    f = load_dataset("mi-f", real_dir)
    first = (real_dir / "cnc" / "experiment_01.csv").read_text().splitlines()[1].split(",")
    np.testing.assert_array_equal(f.X[0, :47], [float(c) for c in first[:47]])
    # experiment_12.csv has bare-CR line endings: its rows must still come through one by one
    assert (f.groups == 12).sum() == 2276


def test_eopt_files_and_groups(real_dir):
    d = load_dataset("eopt", real_dir)
    assert np.bincount(d.groups).tolist() == [25_907, 21_329, 23_645, 19_634]
    assert np.bincount(d.groups, weights=d.y).astype(int).tolist() == [0, 0, 5_670, 4_517]
    assert "Timestamp" not in d.feature_names and "Labels" not in d.feature_names


def test_nasa_feature_selection(real_dir):
    d = load_dataset("nasa", real_dir)
    dropped = {
        "Neo Reference ID",
        "Name",
        "Close Approach Date",
        "Orbiting Body",
        "Orbit Determination Date",
        "Equinox",
        "Hazardous",
    }
    assert not dropped & set(d.feature_names)
    assert d.feature_names[0] == "Absolute Magnitude" and d.feature_names[-1] == "Mean Motion"
    assert (d.X.std(axis=0) > 0).all()


def test_snsr_and_stl_class_names(real_dir):
    s = load_dataset("snsr", real_dir)
    assert s.class_names[0] == "uci_class_1" and len(s.class_names) == 11
    stl = load_dataset("stl", real_dir)
    assert stl.class_names == ("Pastry", "Z_Scratch", "K_Scatch", "Stains", "Dirtiness", "Bumps", "Other_Faults")
    assert stl.feature_names[0] == "X_Minimum" and stl.feature_names[-1] == "SigmoidOfAreas"
    assert stl.X[0, 0] == 42 and stl.y[0] == 0  # first line of Faults.NNA: "42\t50\t...", a Pastry


def test_skab_runs(real_dir):
    runs = load_skab_runs(real_dir)
    assert len(runs) == 34 and runs[0].name == "valve1/0" and runs[-1].name == "other/14"
    per_folder = {}
    for r in runs:
        n = len(r)
        assert r.values.shape == (n, 8) and r.anomaly.shape == r.changepoint.shape == r.timestamps.shape == (n,)
        assert r.timestamps.dtype == np.dtype("datetime64[s]") and (np.diff(r.timestamps) > np.timedelta64(0)).all()
        folder = r.name.split("/")[0]
        rows, an, cp = per_folder.get(folder, (0, 0, 0))
        per_folder[folder] = (rows + n, an + int(r.anomaly.sum()), cp + int(r.changepoint.sum()))
    assert per_folder == {"valve1": (18160, 6309, 63), "valve2": (4312, 1517, 16), "other": (14929, 5241, 50)}
    assert runs[0].timestamps[0] == np.datetime64("2020-03-09T10:14:33")
    np.testing.assert_array_equal(
        runs[0].values[0], [0.0265878, 0.0401113, 1.3302, 0.054711, 79.3366, 26.0199, 233.062, 32.0]
    )
    d = load_dataset("skab", real_dir)
    np.testing.assert_array_equal(d.X, np.concatenate([r.values for r in runs]))
    np.testing.assert_array_equal(np.bincount(d.groups), [len(r) for r in runs])


def test_skab_anomaly_free(real_dir):
    free = load_skab_anomaly_free(real_dir)
    assert len(free) == 9_405 and free.values.shape == (9_405, 8)
    assert not free.anomaly.any() and not free.changepoint.any()
