"""`latentwatch evaluate --scaler --input-norm`: the papers' setup (the scaler alone) is one option away, and the
record says which input the models read."""

import json

import pytest

from latentwatch.cli import main


def test_the_papers_setup_reaches_the_models_and_the_record(tiny_snsr, tmp_path):
    argv = [*tiny_snsr, "--scorers", "recon", "--scaler", "zscore"]
    docs = {}
    for norm in ("range", "scaler"):
        out = tmp_path / f"{norm}.json"
        assert main([*argv, "--input-norm", norm, "--out", str(out)]) == 0
        docs[norm] = json.loads(out.read_text())
    for norm, doc in docs.items():
        assert doc["protocol"]["input_norm"] == norm and f"--input-norm {norm}" in doc["command"]["line"]
        assert [r["spec"]["input_norm"] for r in doc["runs"]] == [norm]
    auroc = {n: d["runs"][0]["methods"]["recon"]["auroc"] for n, d in docs.items()}
    assert auroc["range"] != auroc["scaler"]  # z-scored inputs straight into the model train another model


def test_an_unknown_input_norm_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--datasets", "snsr", "--input-norm", "quantile"])
    assert "invalid choice: 'quantile'" in capsys.readouterr().err
