import json

import pytest

from latentwatch.cli import main
from latentwatch.commands.train import load_spec
from pipelines.online import OnlineModel


def test_train_command_publishes_a_loadable_artifact(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text("hidden: [16]\nlatent: 4\nn_trees: 5\nscorer: nln\n")
    rc = main(["train", "--source", "snsr", "--normal-class", "2", "--out", str(tmp_path / "a"), "--spec", str(spec),
               "--epochs", "3"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    m = OnlineModel.load_current(tmp_path / "a")
    assert m.version == out["version"] and m.scorer_name == "nln" and m.dim == 48
    assert m.manifest["source"] == "snsr" and m.manifest["normal_class"] == 2
    assert m.manifest["spec"]["epochs"] == 3


def test_unknown_spec_key_names_key_and_file(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("latnet: 4\n")
    with pytest.raises(ValueError, match=r"s\.yaml: unknown training setting 'latnet'"):
        load_spec(str(f))
