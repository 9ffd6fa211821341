"""pipelines.api.Detector: hyperparameters checked when it is made, the documented split, scores identical through
save/load and through to_online, clear errors for bad input. Real data: the shared SNSR set (condition 0 normal)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipelines.api import Detector
from pipelines.fit import split_train_val
from pipelines.online import OnlineModel

SMALL = {"hidden": (16,), "latent": 4, "epochs": 8, "n_trees": 5, "device": "cpu"}


@pytest.fixture(scope="module")
def normals(snsr_split) -> tuple[np.ndarray, np.ndarray]:
    X_train, X_val, X_test, _ = snsr_split
    return np.vstack([X_train, X_val]), X_test


@pytest.fixture(scope="module")
def fitted(normals) -> Detector:
    names = [f"s{j // 4}[{j % 4}]" for j in range(normals[0].shape[1])]
    return Detector("ares", k=8, split="random", seed=3, **SMALL).fit(normals[0], feature_names=names)


def test_save_then_load_scores_identically_and_keeps_the_hyperparameters(fitted, normals, tmp_path):
    X_test = normals[1]
    scores = fitted.score(X_test)
    path = fitted.save(tmp_path)
    assert path.parent == tmp_path / "versions"
    assert json.loads((tmp_path / "current.json").read_text())["version"] == path.name
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["spec"]["split"] == "seeded" and manifest["spec"]["k"] == 8 and manifest["seed"] == 3
    assert manifest["feature_names"][:5] == ["s0[0]", "s0[1]", "s0[2]", "s0[3]", "s1[0]"]
    for where in (path, tmp_path):  # a version directory, or a root through current.json
        again = Detector.load(where)
        assert np.array_equal(again.score(X_test), scores)
        assert again.spec == fitted.spec and repr(again) == repr(fitted) and again.path_ == path
        assert again.feature_names_ == fitted.feature_names_
    assert np.array_equal(again.calibration_scores_, fitted.calibration_scores_)


def test_to_online_scores_as_the_saved_artifact_loaded_by_the_daemon(fitted, normals, tmp_path):
    X_test = normals[1]
    mem = fitted.to_online().score(X_test)
    disk = OnlineModel.load(fitted.save(tmp_path, make_current=False)).score(X_test)
    assert not (tmp_path / "current.json").exists()
    assert np.array_equal(mem.score, disk.score) and np.array_equal(mem.neighbours, disk.neighbours)
    assert mem.components.keys() == disk.components.keys()
    assert all(np.array_equal(mem.components[c], disk.components[c]) for c in mem.components)
    assert np.array_equal(mem.sensors, disk.sensors) and mem.sensor_names == disk.sensor_names == tuple(
        f"s{g}" for g in range(12)
    )
    assert fitted.to_online().version == "unsaved" and fitted.to_online().path is None
    assert np.array_equal(fitted.score_batch(X_test).score, fitted.decision_function(X_test))


@pytest.mark.parametrize("split", ["time", "random"])
def test_the_calibration_windows_are_the_ones_the_docstring_names(split, normals):
    """time: the last val_fraction of the rows; random: split_train_val's seeded draw. The calibration scores are
    the scores of exactly those windows."""
    X = normals[0]
    assert len(X) == 140
    det = Detector("ares", k=5, split=split, val_fraction=0.25, seed=4, **SMALL).fit(X)
    val = np.arange(105, 140) if split == "time" else split_train_val(140, 0.25, seed=4)[1]
    assert det.metrics_["val_rows"] == 35 and det.metrics_["train_rows"] == 105
    np.testing.assert_allclose(det.calibration_scores_, det.score(X[val]), rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"scorer": "arse"}, r"scorer must be one of \['ares', 'ares-cal'.*got 'arse'"),
        ({"k": 0}, "k must be an integer >= 1, got 0"),
        ({"k": 2.5}, "k must be an integer >= 1, got 2.5"),
        ({"split": "seeded"}, r"split must be one of \['random', 'time'\]"),
        ({"val_fraction": 1.0}, r"val_fraction must be a number in \(0, 1\)"),
        ({"latent": 0}, "latent must be an integer >= 1"),
        ({"scorer": "recon", "scorer_params": {"k": 3}}, "scorer_params {'k': 3} do not fit scorer 'recon'"),
        ({"scorer": "ares-knn", "scorer_params": {"k_density": -1}}, "k_density must be >= 1"),
        ({"n_tress": 5}, r"unknown Detector option\(s\) \['n_tress'\]; the others are .*'n_trees'"),
    ],
)
def test_bad_hyperparameters_are_refused_when_the_detector_is_made(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Detector(**kwargs)


def test_the_detector_k_reaches_the_scorer_unless_scorer_params_set_it():
    assert Detector("nln", k=7).spec.scorer_params == {"k": 7}
    assert Detector("nln", k=7, scorer_params={"k": 3}).spec.scorer_params == {"k": 3}
    assert Detector("lof-latent", k=7).spec.scorer_params == {} and Detector("lof-latent", k=7).spec.k == 7


def test_a_k_the_training_windows_cannot_serve_fails_at_fit_before_training(normals, monkeypatch):
    import pipelines.fit

    monkeypatch.setattr(pipelines.fit, "fit_bundle", lambda *a, **kw: pytest.fail("trained although k is too large"))
    with pytest.raises(ValueError, match="reference's k=200 need at least 201 training windows, got 80"):
        Detector("ares", k=200, split="random", **SMALL).fit(normals[0][:100])


def test_bad_windows_are_named(fitted, normals):
    X = normals[0][:100].copy()
    X[[7, 42], 3] = np.nan
    with pytest.raises(ValueError, match=r"X has NaN or inf in 2 window\(s\), first rows \[7, 42\]"):
        Detector(**SMALL).fit(X)
    with pytest.raises(ValueError, match=r"X has NaN or inf in 2 window\(s\), first rows \[7, 42\]"):
        fitted.score(X)
    with pytest.raises(ValueError, match=r"2-d array \[windows, features\], got shape \(48,\)"):
        fitted.score(X[0])
    with pytest.raises(ValueError, match="X has 47 features per window, the detector was fitted on 48"):
        fitted.score(normals[1][:, :47])
    with pytest.raises(ValueError, match="feature_names has 2 names, X has 48 features"):
        Detector(**SMALL).fit(normals[0], feature_names=["a", "b"])
    with pytest.raises(ValueError, match="X must be numeric"):
        fitted.score([["a"] * 48])


def test_an_unfitted_detector_says_so():
    det = Detector()
    for call in (lambda: det.score(np.zeros((1, 4))), lambda: det.save("unused"), det.to_online):
        with pytest.raises(RuntimeError, match="not fitted: call fit"):
            call()


def test_an_artifact_of_latentwatch_train_loads_with_the_scorer_it_was_calibrated_with(normals, tmp_path):
    """`latentwatch train` sets the reference's k only; its nln kept nln's own k=5, which a refit must keep too."""
    from pipelines.fit import TrainSpec, fit_artifact

    spec = TrainSpec(hidden=(8,), latent=3, epochs=2, n_trees=3, k=6, device="cpu", scorer="nln")
    path = fit_artifact(normals[0], tmp_path, spec, progress=False)
    det = Detector.load(path)
    assert det.k == 6 and det.to_online().scorer.k == 5 and det.spec.scorer_params == {"k": 5, "alpha": 0.8}
    assert np.array_equal(det.score(normals[1]), OnlineModel.load(path).score(normals[1]).score)
    with pytest.raises(RuntimeError, match="loaded from .* a sealed version already"):
        det.save(tmp_path)
