"""`latentwatch evaluate --variant-params`: parsing, validation with a message naming the option, and the params
recorded in the JSON record and its command line."""

from __future__ import annotations

import json

import pytest

from latentwatch.cli import main
from latentwatch.commands.evaluate_params import parse_one, resolve


def test_values_are_yaml_scalars_and_lists():
    assert parse_one("vae:beta=0.1") == ("vae", {"beta": 0.1})
    assert parse_one("deae:noise=0, lambda2=0,mlp_hidden=[16, 8]") == (
        "deae",
        {"noise": 0, "lambda2": 0, "mlp_hidden": [16, 8]},
    )
    assert parse_one("lfr:k=null,loss=B") == ("lfr", {"k": None, "loss": "B"})


@pytest.mark.parametrize("text", ["vae", "vae:", ":beta=1", "vae:beta", "vae:beta=1,beta=2", "vae:=1"])
def test_malformed_options_are_refused(text):
    with pytest.raises(ValueError, match="--variant-params"):
        parse_one(text)


@pytest.mark.parametrize(
    ("texts", "variants", "message"),
    [
        (["vea:beta=1"], ["vae"], "unknown training variant 'vea'"),
        (["lfr:k=2"], ["ae", "vae"], "'lfr' is not trained here; add it to --variants"),
        (["vae:bta=1"], ["vae"], "'vae' has no parameter 'bta'; its parameters: beta"),
        (["ae:beta=1"], ["ae"], "its parameters: none"),
        (["vae:beta=-2"], ["vae"], "beta (the KL term's weight) must be a finite number >= 0"),
        (["vae:beta=1", "vae:beta=2"], ["vae"], "'vae' given twice"),
    ],
)
def test_bad_params_are_refused_naming_the_option(texts, variants, message):
    with pytest.raises(ValueError) as e:
        resolve(texts, variants)
    assert message in str(e.value) and "--variant-params" in str(e.value)


def test_the_command_refuses_before_training(capsys, tmp_path):
    rc = main(["evaluate", "--datasets", "snsr", "--variants", "vae", "--variant-params", "vae:gamma=1"])
    assert rc == 2
    assert "'vae' has no parameter 'gamma'" in capsys.readouterr().err


def test_the_params_reach_the_record(tiny_snsr, tmp_path):
    out = tmp_path / "ev.json"
    argv = [*tiny_snsr, "--variants", "vae", "--scorers", "vae-elbo"]
    assert main([*argv, "--variant-params", "vae:beta=0.25", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["protocol"]["variant_params"] == {"vae": {"beta": 0.25}}
    assert "--variant-params vae:beta=0.25" in doc["command"]["line"]
    assert [r["variant_params"] for r in doc["runs"]] == [{"vae": {"beta": 0.25}}]
