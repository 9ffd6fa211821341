import json

import pytest

from latentwatch.cli import main
from latentwatch.commands.train import load_spec
from pipelines.online import OnlineModel


def test_train_command_publishes_a_loadable_artifact(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text("hidden: [16]\nlatent: 4\nn_trees: 5\nscorer: nln\n")
    rc = main(
        [
            "train",
            "--source",
            "snsr",
            "--normal-class",
            "2",
            "--out",
            str(tmp_path / "a"),
            "--spec",
            str(spec),
            "--epochs",
            "3",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    m = OnlineModel.load_current(tmp_path / "a")
    assert m.version == out["version"] and m.scorer_name == "nln" and m.dim == 48
    assert m.manifest["source"] == "snsr" and m.manifest["normal_class"] == 2
    assert m.manifest["spec"]["epochs"] == 3


def test_input_norm_comes_from_the_spec_or_the_command_line_and_a_bad_one_is_named(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("input_norm: scaler\n")
    assert load_spec(None).input_norm == "range"
    assert load_spec(str(f)).input_norm == "scaler"
    assert load_spec(str(f), input_norm="range").input_norm == "range"
    f.write_text("input_norm: ranged\n")
    with pytest.raises(ValueError, match=r"s\.yaml: TrainSpec.input_norm must be one of \('range', 'scaler'\)"):
        load_spec(str(f))


def test_unknown_spec_key_names_key_and_file(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("latnet: 4\n")
    with pytest.raises(ValueError, match=r"s\.yaml: unknown training setting 'latnet'"):
        load_spec(str(f))


def _trained_from_spec(tmp_path, spec_text: str) -> OnlineModel:
    """`latentwatch train --spec` on SNSR's class 2 for 3 epochs: the artifact it published, loaded."""
    spec = tmp_path / "spec.yaml"
    spec.write_text("hidden: [16]\nlatent: 4\nn_trees: 5\n" + spec_text)
    argv = ["train", "--source", "snsr", "--normal-class", "2", "--out", str(tmp_path / "a"), "--spec", str(spec)]
    assert main([*argv, "--epochs", "3"]) == 0
    return OnlineModel.load_current(tmp_path / "a")


def test_the_spec_trains_a_variant_and_the_artifact_serves_it(tmp_path, capsys):
    m = _trained_from_spec(tmp_path, "scorer: lfr\nvariant: lfr\nvariant_params: {k: 2}\n")
    assert m.scorer_name == "lfr" and m.model.variant.name == "lfr" and m.model.parts.A.shape == (2, 4)
    assert m.manifest["spec"]["variant"] == "lfr" and m.manifest["spec"]["variant_params"] == {"k": 2}


def test_the_spec_trains_a_vae_and_the_artifact_serves_its_elbo(tmp_path, capsys):
    m = _trained_from_spec(tmp_path, "scorer: vae-elbo\nvariant: vae\nvariant_params: {beta: 0.5}")
    assert m.scorer_name == "vae-elbo" and m.model.variant.name == "vae" and m.model.variant.params() == {"beta": 0.5}
    assert m.model.parts.linear.weight.shape == (4, 16)


def test_the_spec_trains_a_deae_and_the_artifact_serves_its_error_mlp(tmp_path, capsys):
    m = _trained_from_spec(
        tmp_path, "scorer: deae-mlp\nvariant: deae\nvariant_params: {noise: 0.2, lambda2: 0.5, mlp_hidden: [8]}\n"
    )
    assert m.scorer_name == "deae-mlp" and m.model.variant.name == "deae"
    params = m.model.variant.params()
    assert params == {"noise": 0.2, "lambda1": 1e-4, "lambda2": 0.5, "lambda3": 1.0, "mlp_hidden": [8]}
    assert m.model.parts.net[0].weight.shape == (8, 4)


def test_the_spec_trains_cance_and_the_artifact_serves_its_score(tmp_path, capsys):
    m = _trained_from_spec(tmp_path, "scorer: cance\nvariant: cance\nvariant_params: {lam: 0.5, head_hidden: [8]}\n")
    assert m.scorer_name == "cance" and m.model.variant.name == "cance"
    assert m.model.variant.params() == {"lam": 0.5, "nu": 1.0, "head_hidden": [8], "nce_lr": 1e-3}
    assert m.model.ae.spec.latent_norm == "batch"
    assert m.model.parts.head("cance").net[0].weight.shape == (8, 6)


def test_a_bad_variant_setting_names_the_file(tmp_path):
    f = tmp_path / "v.yaml"
    f.write_text("latent: 4\nvariant: lfr\nvariant_params: {k: 5}\n")
    with pytest.raises(ValueError, match=r"v\.yaml: TrainSpec.variant: lfr: k=5 rows of A exceed the latent size 4"):
        load_spec(str(f))


def test_a_time_series_source_trains_with_the_time_ordered_split_a_tabular_one_with_the_seeded(tmp_path, capsys):
    from pipelines.fit import split_time_ordered
    from pipelines.sources import WindowSpec, normal_window_parts

    spec = tmp_path / "spec.yaml"
    spec.write_text("hidden: [8]\nlatent: 2\nn_trees: 3\nk: 5\n")
    rc = main(
        [
            "train",
            "--source",
            "skab",
            "--stride",
            "7",
            "--out",
            str(tmp_path / "s"),
            "--spec",
            str(spec),
            "--epochs",
            "1",
        ]
    )
    assert rc == 0
    m = OnlineModel.load_current(tmp_path / "s")
    assert m.manifest["spec"]["split"] == "time" and m.manifest["spec"]["split_gap"] == 9
    lengths = [len(p) for p in normal_window_parts("skab", None, WindowSpec(10, 7))]
    tr, va = split_time_ordered(lengths, 0.2, 9)
    assert (m.manifest["metrics"]["train_rows"], m.manifest["metrics"]["val_rows"]) == (tr.size, va.size)
    assert m.calibration.size == va.size
    main(
        [
            "train",
            "--source",
            "snsr",
            "--normal-class",
            "2",
            "--out",
            str(tmp_path / "t"),
            "--spec",
            str(spec),
            "--epochs",
            "1",
        ]
    )
    assert OnlineModel.load_current(tmp_path / "t").manifest["spec"]["split"] == "seeded"


def test_skab_deployment_trains_what_the_demo_and_row_b_run(tmp_path, capsys):
    import argparse

    from latentwatch.demo.model import ensure_artifact
    from pipelines.evaluate.skab.settings import SkabSettings

    assert main(["train", "--source", "snsr", "--skab-deployment", "--out", str(tmp_path / "x")]) == 2
    assert "--skab-deployment needs --source skab" in capsys.readouterr().err
    rc = main(["train", "--source", "skab", "--skab-deployment", "--epochs", "2", "--out", str(tmp_path / "b")])
    assert rc == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    m = OnlineModel.load_current(tmp_path / "b")
    s = SkabSettings()
    assert m.version == out["version"] and m.manifest["training"] == "anomaly-free"
    assert m.manifest["window"] == {"length": s.length, "stride": 1, "mode": s.mode}
    assert m.manifest["skab_settings"] == s.with_(epochs=2).to_dict() and m.scorer_name == s.scorer
    assert m.manifest["assets"]["keys"] == 34 and len(m.assets) == 34 and m.dim == 8 * s.length
    # the demo takes it as its own artifact instead of training one
    cfg = argparse.Namespace(artifact=argparse.Namespace(path=None, root=tmp_path / "b"))
    got = ensure_artifact(cfg, argparse.Namespace(retrain=False, seed=0, epochs=2, data_dir=None))
    assert got["trained_now"] is False and got["version"] == m.version
