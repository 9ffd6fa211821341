"""A min-max, every-window artifact (the evaluation's choices) round-trips and is recorded in the manifest."""

from __future__ import annotations

import numpy as np

from pipelines.artifact import codec
from pipelines.batch_encoding import encode_batch, neighbours_needed
from pipelines.fit import TrainSpec, fit_artifact, fit_bundle, split_train_val
from pipelines.online import OnlineModel
from pipelines.scorers import make_scorer

SPEC = TrainSpec(hidden=(16,), latent=4, epochs=5, n_trees=5, scaler="minmax", reference_dedup=False)


def test_minmax_every_window_bundle_gives_identical_scores_after_save_and_load(snsr_split, tmp_path):
    X_train, X_val, X_test, _ = snsr_split
    X_train = np.r_[X_train, X_train[:30]]  # duplicates: kept as separate reference items
    bundle = fit_bundle(X_train, X_val, SPEC, seed=0, progress=False)
    assert bundle.reference.size == len(X_train) and (bundle.reference.counts == 1).all()
    for name in ("ares", "ares-cal", "nln"):
        scorer = make_scorer(name)
        k = neighbours_needed(bundle.reference, scorer)
        scorer.fit(encode_batch(bundle.model, bundle.reference, X_val, k), bundle.reference, bundle.model.decode)
        before = scorer.score(
            encode_batch(bundle.model, bundle.reference, X_test, k), bundle.reference, bundle.model.decode
        ).score
        d = tmp_path / name
        d.mkdir()
        codec.save_model(d, bundle.model)
        codec.save_reference(d, bundle.reference)
        codec.save_scorer(d, scorer, before)
        model, ref = codec.load_model(d), codec.load_reference(d)
        loaded, _, _ = codec.load_scorer(d)
        np.testing.assert_array_equal(model.scaler.center, bundle.model.scaler.center)
        np.testing.assert_array_equal(ref.counts, bundle.reference.counts)
        after = loaded.score(encode_batch(model, ref, X_test, k), ref, model.decode).score
        np.testing.assert_array_equal(after, before)


def test_published_artifact_records_the_options_and_the_manifest_spec_round_trips(snsr_split, tmp_path):
    X_train, X_val, X_test, _ = snsr_split
    X = np.vstack([X_train, X_val, X_train[:25]])
    path = fit_artifact(X, tmp_path, SPEC, seed=0, progress=False)
    m = OnlineModel.load(path)
    assert TrainSpec.from_dict(m.manifest["spec"]) == TrainSpec(**{**SPEC.__dict__, "split": "seeded"})
    assert m.manifest["metrics"]["reference_items"] == m.manifest["metrics"]["train_rows"]
    tr, _ = split_train_val(len(X), SPEC.val_fraction, 0)
    np.testing.assert_array_equal(m.model.scaler.center, X[tr].min(0))  # min-max, fitted on the training split
    assert np.isfinite(m.score(X_test[:9]).score).all()
    old = {k: v for k, v in m.manifest["spec"].items() if k not in ("scaler", "reference_dedup")}
    assert TrainSpec.from_dict(old) == TrainSpec(
        **{**SPEC.__dict__, "scaler": "zscore", "reference_dedup": True, "split": "seeded"}
    )


def test_train_command_takes_the_options_and_a_bad_value_names_the_file(tmp_path, capsys):
    import pytest

    from latentwatch.cli import main
    from latentwatch.commands.train import load_spec

    spec = tmp_path / "spec.yaml"
    spec.write_text("hidden: [16]\nlatent: 4\nn_trees: 5\n")
    rc = main(
        [
            "train",
            "--source",
            "snsr",
            "--normal-class",
            "1",
            "--out",
            str(tmp_path / "a"),
            "--spec",
            str(spec),
            "--epochs",
            "2",
            "--scaler",
            "minmax",
            "--no-reference-dedup",
        ]
    )
    assert rc == 0
    m = OnlineModel.load_current(tmp_path / "a")
    assert (m.manifest["spec"]["scaler"], m.manifest["spec"]["reference_dedup"]) == ("minmax", False)
    bad = tmp_path / "bad.yaml"
    bad.write_text("scaler: robust\n")
    with pytest.raises(ValueError, match=r"bad\.yaml: TrainSpec\.scaler must be one of"):
        load_spec(str(bad))
