"""The report ``latentwatch demo`` writes at its end: its live alerts, its input records traced through the daemon's
chain with the artifact the live daemon ran, and its settings; the run's files beside it, so
``latentwatch report --from <dir>/demo/run`` writes it again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from latentwatch.report.html import render
from latentwatch.report.read import from_records, write_files


def write_demo_report(
    summary: dict[str, Any], alerts: list[dict[str, Any]], daemon_config: Path, records: list[Any], out: Path
) -> Path:
    """``out``: the demo's summary JSON; the report goes beside it (report.html), the run's files to
    <dir of out>/demo/run/. Returns the report's path."""
    from daemon.config import load_config

    cfg = load_config(daemon_config)
    a = summary["artifact"]
    settings = {
        "artifact": {k: a.get(k) for k in ("version", "path", "source", "window", "dim", "asset_normals")},
        "training": a.get("settings") or {},
        "daemon": {"config": summary["daemon_config"]["path"], **summary["daemon_config"]["changes"]},
        "topics": summary["topics"],
        "replay": {k: summary["replay"].get(k) for k in ("windows", "runs", "rate", "seconds")},
        "demo summary": str(out),
    }
    source = (
        f"latentwatch demo: {summary['replay']['runs']} {summary.get('source', 'skab')} runs through "
        f"{summary['topics']['input']}"
    )
    pinned = Path(a["path"]) if a.get("path") else None  # the version the live daemon ran
    run = from_records(cfg, records, alerts, artifact_path=pinned, settings=settings, source=source)
    write_files(run, out.parent / "demo" / "run")
    html = out.with_name("report.html")
    html.write_text(render(run))
    return html
