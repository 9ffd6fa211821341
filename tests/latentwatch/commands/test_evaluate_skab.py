"""`latentwatch evaluate --protocol skab`: bad options are refused with a message before anything is trained."""

from __future__ import annotations

from latentwatch.cli import main


def test_unknown_rows_and_subsets_are_refused(capsys, tmp_path):
    assert (
        main(["evaluate", "--protocol", "skab", "--skab-rows", "leaderboard,nope", "--out", str(tmp_path / "x.json")])
        == 2
    )
    assert "unknown --skab-rows ['nope']" in capsys.readouterr().err
    assert main(["evaluate", "--protocol", "skab", "--skab-subsets", "valve3", "--out", str(tmp_path / "x.json")]) == 2
    assert "unknown SKAB subset(s) ['valve3']" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_scorer_params_are_checked_against_the_chosen_methods(capsys, tmp_path):
    out = str(tmp_path / "x.json")
    assert main(["evaluate", "--protocol", "skab", "--scorer-params", "nln:k=3", "--out", out]) == 2
    assert "--scorer-params 'nln:k=3': 'nln' is not run here" in capsys.readouterr().err
    assert main(["evaluate", "--protocol", "skab", "--scorer-params", "recon:k=3", "--out", out]) == 2
    assert "--scorer-params 'recon:k=3'" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()
