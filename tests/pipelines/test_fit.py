"""Calibration for streams: a time-ordered split for time-series sources, the seeded split for tabular sets."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipelines.fit import TrainSpec, fit_artifact, fit_calibrated, split_for_source, split_time_ordered, split_train_val


def test_each_run_keeps_its_last_part_for_validation_after_a_gap():
    tr, va = split_time_ordered([100, 50, 3], 0.2, gap=9)
    assert va.tolist() == list(range(80, 100)) + list(range(140, 150))
    assert tr.tolist() == list(range(0, 71)) + list(range(100, 131)) + [150, 151, 152]  # the 3-window run: train
    assert not set(tr) & set(va)
    for run_start, run_end in ((0, 100), (100, 150)):  # every calibration window comes after its run's training
        assert tr[(tr >= run_start) & (tr < run_end)].max() < va[(va >= run_start) & (va < run_end)].min()
    with pytest.raises(ValueError, match="long enough"):
        split_time_ordered([5, 5], 0.2, gap=9)


def test_the_source_chooses_the_split_unless_the_spec_does():
    assert split_for_source(TrainSpec(), "skab", window_length=10).split == "time"
    assert split_for_source(TrainSpec(), "skab", window_length=10).split_gap == 9
    assert split_for_source(TrainSpec(), "mi-f").split == "seeded"
    assert split_for_source(TrainSpec(split="seeded"), "skab").split == "seeded"
    with pytest.raises(ValueError, match="split must be one of"):
        TrainSpec(split="random")


def test_the_seeded_split_is_unchanged():
    """The evaluation and the threshold bench call split_train_val directly; its indices must not move."""
    tr, va = split_train_val(10, 0.3, seed=0)
    perm = np.random.default_rng(0).permutation(10)
    assert va.tolist() == sorted(perm[:3].tolist()) and tr.tolist() == sorted(perm[3:].tolist())


def test_a_time_series_artifact_calibrates_on_its_later_windows_and_records_the_split(tmp_path):
    """A drifting series: a seeded split would calibrate on windows interleaved with the training ones; the
    time-ordered one calibrates on the later part only, and the manifest's spec says which."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3)) + np.linspace(0.0, 3.0, 600)[:, None]
    spec = TrainSpec(hidden=(8,), latent=2, epochs=3, n_trees=3, k=5, device="cpu", split="time", split_gap=4)
    path = fit_artifact(X, tmp_path, spec, seed=0, progress=False, segments=[400, 200])
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["spec"]["split"] == "time" and manifest["spec"]["split_gap"] == 4
    assert manifest["metrics"]["val_rows"] == 80 + 40 and manifest["metrics"]["train_rows"] == 316 + 156
    seeded = fit_artifact(
        X, tmp_path, TrainSpec(hidden=(8,), latent=2, epochs=3, n_trees=3, k=5, device="cpu"), seed=0, progress=False
    )
    assert json.loads((seeded / "manifest.json").read_text())["spec"]["split"] == "seeded"
    with pytest.raises(ValueError, match="segments sum to 500 windows, X_normal has 600"):
        fit_artifact(X, tmp_path, spec, seed=0, progress=False, segments=[400, 100])


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_a_reference_k_that_is_not_a_positive_integer_is_refused_by_the_spec(k):
    with pytest.raises(ValueError, match=r"TrainSpec.k .* integer >= 1"):
        TrainSpec(k=k)


def test_a_k_larger_than_the_training_windows_fails_before_training(monkeypatch):
    import pipelines.fit as fit

    monkeypatch.setattr(fit, "fit_bundle", lambda *a, **kw: pytest.fail("trained although k cannot be served"))
    X = np.random.default_rng(0).normal(size=(200, 3))
    with pytest.raises(ValueError, match="reference's k=500 need at least 501 training windows, got 160"):
        fit.fit_calibrated(X, TrainSpec(k=500))
    with pytest.raises(ValueError, match="k=170 of scorer 'knn-latent' need at least 170 training windows, got 160"):
        fit.fit_calibrated(X, TrainSpec(scorer="knn-latent", scorer_params={"k": 170}))


def test_a_scorer_k_beyond_the_distinct_reference_windows_is_named_before_calibrating():
    """160 training rows but only 30 distinct: the deduplicated reference holds 30 items, fewer than k=40."""
    X = np.tile(np.random.default_rng(0).normal(size=(30, 3)), (7, 1))[:200]
    spec = TrainSpec(
        hidden=(8,), latent=2, epochs=2, n_trees=3, device="cpu", scorer="knn-latent", scorer_params={"k": 40}
    )
    with pytest.raises(ValueError, match="k=40 of scorer 'knn-latent' need at least 40 distinct reference windows"):
        fit_calibrated(X, spec, progress=False)


def test_the_range_model_does_not_depend_on_the_scaler_and_the_papers_setup_does():
    """input_norm "range" (the default): z-score and min-max train the same model, so every score is the same;
    "scaler" (the papers' setup) feeds the scaler's output to the autoencoder and the two differ. A sparse stage
    bit is what z-scoring turns into a +-10 coordinate."""
    rng = np.random.default_rng(4)
    X = np.c_[rng.normal(size=(500, 3)) * [1.0, 5.0, 0.1], rng.random(500) < 0.03]
    small = {"hidden": (8,), "latent": 2, "epochs": 4, "n_trees": 3, "k": 5, "device": "cpu", "scorer": "recon"}
    probe = rng.normal(size=(50, 4)) * 2

    def scores(**kw):
        fitted = fit_calibrated(X, TrainSpec(**small, **kw), seed=0, progress=False)
        return fitted.calibration, fitted.bundle.model.encode(probe)[1]

    (cal_z, z_z), (cal_m, z_m) = (
        scores(scaler="zscore", input_norm="range"),
        scores(scaler="minmax", input_norm="range"),
    )
    np.testing.assert_allclose(cal_z, cal_m, rtol=1e-5)
    np.testing.assert_allclose(z_z, z_m, rtol=1e-4, atol=1e-5)
    (cal_z, _), (cal_m, _) = scores(scaler="zscore", input_norm="scaler"), scores(scaler="minmax", input_norm="scaler")
    assert not np.allclose(cal_z, cal_m, rtol=1e-2)


def test_input_norm_is_checked_and_older_specs_read_the_scaler_alone():
    with pytest.raises(ValueError, match=r"TrainSpec.input_norm must be one of \('range', 'scaler'\), got 'quantile'"):
        TrainSpec(input_norm="quantile")
    old = TrainSpec().to_dict()
    del old["input_norm"]
    assert TrainSpec.from_dict(old).input_norm == "scaler"
    assert TrainSpec.from_dict(TrainSpec(input_norm="range").to_dict()).input_norm == "range"
