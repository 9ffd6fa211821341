"""`latentwatch evaluate --scorer-params`: validation naming the option, and the params reaching the scorer (its
scores, the JSON record and the command line)."""

from __future__ import annotations

import json

import pytest

from latentwatch.cli import main
from latentwatch.commands.evaluate_scorer_params import resolve


def test_params_are_read_and_checked_against_the_scorer():
    assert resolve(["rank-mean:members=[ares,nln,cance]"], ["rank-mean"]) == {
        "rank-mean": {"members": ["ares", "nln", "cance"]}
    }
    assert resolve(["nln:k=3,alpha=0.5"], ["nln", "ares"]) == {"nln": {"k": 3, "alpha": 0.5}}


@pytest.mark.parametrize(
    ("texts", "scorers", "message"),
    [
        (["nnl:k=3"], ["nln"], "unknown scorer 'nnl'"),
        (["nln:k=3"], ["ares"], "'nln' is not run here; add it to --scorers"),
        (["nln:kk=3"], ["nln"], "kk"),
        (["nln:alpha=2"], ["nln"], "alpha in [0, 1]"),
        (["rank-mean:members=[ares,nope]"], ["rank-mean"], "nope"),
        (["nln:k=3", "nln:k=4"], ["nln"], "'nln' given twice"),
        (["nln"], ["nln"], "expected NAME:KEY=VALUE"),
    ],
)
def test_bad_params_are_refused_naming_the_option(texts, scorers, message):
    with pytest.raises(ValueError) as e:
        resolve(texts, scorers)
    assert message in str(e.value) and "--scorer-params" in str(e.value)


def test_the_command_refuses_before_training(capsys):
    rc = main(["evaluate", "--datasets", "snsr", "--scorers", "nln", "--scorer-params", "nln:gamma=1"])
    assert rc == 2
    assert "--scorer-params 'nln:gamma=1'" in capsys.readouterr().err


def test_the_params_reach_the_scorer_and_the_record(tiny_snsr, tmp_path):
    argv = [*tiny_snsr, "--scorers", "nln"]
    plain, tuned = tmp_path / "plain.json", tmp_path / "tuned.json"
    assert main([*argv, "--out", str(plain)]) == 0
    assert main([*argv, "--scorer-params", "nln:alpha=0", "--out", str(tuned)]) == 0
    a, b = json.loads(plain.read_text()), json.loads(tuned.read_text())
    assert b["protocol"]["scorers"]["nln"] == {"k": 5, "alpha": 0.0}
    assert a["protocol"]["scorers"]["nln"] == {"k": 5, "alpha": 0.8}
    assert "--scorer-params nln:alpha=0" in b["command"]["line"]
    # alpha 0 is NLN's latent term alone: same model and rows, another score
    assert a["runs"][0]["methods"]["nln"]["auroc"] != b["runs"][0]["methods"]["nln"]["auroc"]
