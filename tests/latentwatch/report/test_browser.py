"""The report in a real browser (headless Chromium): every plot draws something, the console stays clean, and the
check itself fails on a blank plot or a script error."""

from __future__ import annotations

import re
import shutil

import pytest

from latentwatch.report import browser
from latentwatch.report.html import render
from tests.latentwatch.report.conftest import make_run

pytestmark = [
    pytest.mark.skipif(
        not any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")),
        reason="no chromium on PATH (scripts/test.sh installs Debian's chromium when it runs as root)",
    ),
]
pytest.importorskip("PIL", reason="Pillow reads the screenshot (installed with the bench extra)")


@pytest.mark.parametrize("traced", [True, False], ids=["every-window", "alerts-only"])
def test_every_plot_renders_and_the_console_is_clean(tmp_path, traced):
    html = tmp_path / "report.html"
    html.write_text(render(make_run(traced)))
    res = browser.check(html, tmp_path / "report.png")
    assert res.plots == ["fleet-episodes", "fleet-delay", "score-0", "components-0", "score-1", "components-1"]
    assert res.blank == [] and res.console_errors == []
    assert res.ok


def test_a_blank_plot_fails_the_check(tmp_path):
    page = render(make_run())
    blanked, n = re.subn(
        r'(<svg class="plot" id="score-1".*?<g class="data"[^>]*>).*?(</g><rect class="frame")',
        r"\1\2",
        page,
        count=1,
        flags=re.S,
    )
    assert n == 1
    html = tmp_path / "blank.html"
    html.write_text(blanked)
    res = browser.check(html, tmp_path / "blank.png")
    assert res.blank == ["score-1"] and not res.ok


def test_a_console_error_fails_the_check(tmp_path):
    html = tmp_path / "error.html"
    html.write_text(render(make_run()).replace("</body>", "<script>no_such_function()</script></body>"))
    res = browser.check(html, tmp_path / "error.png")
    assert any("no_such_function" in e for e in res.console_errors) and not res.ok


def test_the_page_needs_no_network_and_runs_no_script():
    page = render(make_run())
    assert "<script" not in page and "<link" not in page and "@import" not in page
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= {"http://www.w3.org/2000/svg"}  # the SVG namespace, an identifier, never fetched
