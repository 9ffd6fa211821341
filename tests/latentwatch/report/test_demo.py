"""What the demo writes at its end: the report beside its summary, the run's files, the live alerts reproduced."""

from __future__ import annotations

import shutil

import pytest

from latentwatch.report.read import read_files


def test_the_demo_report_reproduces_the_live_alerts_and_renders(records_and_cfg, tmp_path):
    from daemon.offline import score_offline
    from latentwatch.report.demo import write_demo_report

    records, cfg = records_and_cfg
    live = score_offline(cfg, records).alerts  # what the live daemon would have published
    summary = {
        "artifact": {"version": "v", "path": None, "source": "synthetic"},
        "daemon_config": {"path": str(cfg.source), "changes": {"threshold.method": "spot"}},
        "topics": {"input": cfg.kafka.input_topic, "alerts": cfg.kafka.alert_topic},
        "replay": {"windows": 240, "runs": 2},
        "source": "synthetic",
    }
    html = write_demo_report(summary, live, cfg.source, records, tmp_path / "demo.json")
    assert html == tmp_path / "report.html"
    page = html.read_text()
    assert "published the same" in page and "a0" in page and "threshold.method" in page
    run = read_files(tmp_path / "demo" / "run")
    assert run.reproduced is not None and run.reproduced["same"] and run.reproduced["live"] == len(live)
    assert sum(len(s.ts_ms) for s in run.series.values()) == 240
    if shutil.which("chromium") is None:
        pytest.skip("no chromium on PATH: the page was written but not rendered")
    pytest.importorskip("PIL")
    from latentwatch.report import browser

    res = browser.check(html, tmp_path / "report.png")
    assert res.ok, (res.blank, res.console_errors)
