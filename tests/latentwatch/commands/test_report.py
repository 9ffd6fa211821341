"""`latentwatch report`: from a run's folder to the HTML file; a folder that is not a run is exit 2 with its name."""

from __future__ import annotations

from latentwatch.cli import main
from latentwatch.report.read import write_files
from tests.latentwatch.report.conftest import make_run


def test_report_writes_the_page_from_a_run_folder(tmp_path, capsys):
    folder = write_files(make_run(), tmp_path / "run")
    out = tmp_path / "r" / "report.html"
    assert main(["report", "--from", str(folder), "--out", str(out)]) == 0
    page = out.read_text()
    assert page.count('<svg class="plot"') == 6 and "pump/1" in page and "v-test" in page
    assert f"report: {out} (2 assets, 9 alerts" in capsys.readouterr().out


def test_a_folder_without_a_run_is_exit_2_naming_it(tmp_path, capsys):
    assert main(["report", "--from", str(tmp_path), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "run.json" in err


def test_options_of_the_topics_are_refused_with_a_folder(tmp_path, capsys):
    folder = write_files(make_run(), tmp_path / "run")
    assert main(["report", "--from", str(folder), "--alerts-only"]) == 2
    assert "--alerts-only and --save-run go with --config" in capsys.readouterr().err
