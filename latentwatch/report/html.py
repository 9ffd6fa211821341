"""The page: a fleet overview first, then one section per asset, the run's settings last. Inline CSS and SVG only:
no script, no font or stylesheet from elsewhere, so it opens offline and renders the same everywhere."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from typing import Any

import numpy as np

from latentwatch.report.measure import Measured, episode_sensors, measure
from latentwatch.report.run import Run, Series
from latentwatch.report.svg import TimePlot, bar_rows, fmt

WIDTH = 1040
COLORS = {
    "score": "#1f5fa8",
    "threshold": "#d62728",
    "label": "#f6c9a8",
    "true": "#2ca02c",
    "false": "#e8801a",
    "unlabelled": "#888",
}
PALETTE = ("#1f5fa8", "#9467bd", "#17becf", "#8c564b", "#bcbd22", "#7f7f7f")
CSS = """
body{font:13px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;margin:0;background:#fff}
main{width:1080px;margin:0 auto;padding:12px 20px 40px}
h1{font-size:22px;margin:8px 0 2px}h2{font-size:17px;margin:26px 0 6px;border-bottom:1px solid #ddd}
h3{font-size:14px;margin:14px 0 4px}.note{color:#555}.bad{color:#b00020;font-weight:600}
table{border-collapse:collapse;margin:6px 0}td,th{padding:2px 10px 2px 0;text-align:left;vertical-align:top}
th{font-weight:600;border-bottom:1px solid #ccc}td.n{text-align:right;font-variant-numeric:tabular-nums}
svg text{font:11px system-ui,sans-serif;fill:#444}svg .ptitle{font-weight:600;fill:#222}
.row{display:flex;gap:8px}.key span{display:inline-block;width:12px;height:10px;margin:0 4px 0 12px}
"""


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:.3f}"


def _table(head: list[str], rows: list[list[Any]], num_from: int = 1, num_to: int = 99) -> str:
    """Columns num_from..num_to-1 hold numbers (right-aligned)."""
    h = "".join(f"<th>{escape(x)}</th>" for x in head)
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=n' if num_from <= j < num_to else ''}>{escape(str(c))}</td>" for j, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{h}</tr>{body}</table>"


def _scores_rows(m: Measured, key: str) -> list[list[Any]]:
    rows = []
    for name, d in (("inside an episode", m.by_episode.get(key)), ("alarmed", m.by_alarm.get(key))):
        if d:
            far = "" if d["far"] is None else f"{d['far']:.2f}"
            mar = "" if d["mar"] is None else f"{d['mar']:.2f}"
            rows.append([name, _pct(d["precision"]), _pct(d["recall"]), _pct(d["f1"]), far, mar])
    return rows


def _key(*items: tuple[str, str]) -> str:
    return (
        '<div class="key note">'
        + "".join(f'<span style="background:{c}"></span>{escape(n)}' for n, c in items)
        + "</div>"
    )


def fleet(run: Run, m: Measured) -> str:
    assets = run.assets()
    t = m.totals
    delays = [r["delay_s"] for r in m.runs.values() if r.get("delay_s") is not None]
    summary = [
        ["assets", len(assets)],
        ["alerts", len(run.alerts)],
        ["episodes", sum(len(v) for v in m.episodes.values())],
        ["true episodes (overlap a labelled anomaly)", t.get("true_episodes", "")],
        ["false episodes (in normal windows only)", t.get("false_episodes", "")],
        ["assets with a labelled anomaly", t.get("runs_with_anomaly", "")],
        ["of them detected", t.get("runs_detected", "")],
        ["false episodes per 1,000 normal windows", t.get("false_episodes_per_1000_normal_windows", "")],
        ["median detection delay (s)", "" if not delays else f"{float(np.median(delays)):+.0f}"],
    ]
    out = ["<h2>Fleet</h2>", _table(["", ""], summary)]
    rows = _scores_rows(m, "fleet")
    if rows:
        out.append("<h3>Windows, all assets (flagged = ...)</h3>")
        out.append(_table(["flagged", "precision", "recall", "F1", "FAR %", "MAR %"], rows))
    true_n = [sum(bool(e.get("true")) for e in m.episodes.get(a, [])) for a in assets]
    false_n = [sum(e.get("true") is False for e in m.episodes.get(a, [])) for a in assets]
    unlabelled_n = [sum(e.get("true") is None for e in m.episodes.get(a, [])) for a in assets]
    delay = [np.nan if m.runs.get(a, {}).get("delay_s") is None else m.runs[a]["delay_s"] for a in assets]
    out.append(_key(("true episodes", COLORS["true"]), ("false episodes", COLORS["false"])))
    out.append('<div class="row">')
    out.append(
        bar_rows(
            "fleet-episodes",
            assets,
            [
                ("true episodes", true_n, COLORS["true"]),
                ("false episodes", false_n, COLORS["false"]),
                ("episodes on unlabelled assets", unlabelled_n, COLORS["unlabelled"]),
            ],
            width=600,
            title="episodes per asset",
        )
    )
    out.append(
        bar_rows(
            "fleet-delay",
            [""] * len(assets),
            [("delay s", delay, COLORS["score"])],
            width=420,
            label_width=14,
            zero_line=True,
            title="detection delay (s; below 0: before the label)",
        )
    )
    out.append("</div>")
    return "".join(out)


def _range(*arrays: np.ndarray | None) -> tuple[float, float, bool]:
    vals = np.concatenate(
        [np.asarray(a, dtype=np.float64).ravel() for a in arrays if a is not None and len(a)] or [np.zeros(1)]
    )
    vals = vals[np.isfinite(vals)]
    lo, hi = (float(vals.min()), float(vals.max())) if len(vals) else (0.0, 1.0)
    return lo, hi, lo > 0 and hi / lo > 50


def _alert_points(alerts: list[dict[str, Any]], field: str) -> tuple[np.ndarray, np.ndarray]:
    scored = [a for a in alerts if a.get("score") is not None]
    ts = np.array([a["ts_ms"] for a in scored], dtype=np.float64)
    if field == "threshold":
        return ts, np.array([(a.get("threshold") or {}).get("value", np.nan) for a in scored], dtype=np.float64)
    return ts, np.array([a["score"] for a in scored], dtype=np.float64)


def _verdict(e: dict[str, Any]) -> str:
    """true/false against the labels; "unlabelled" when the asset's windows carry none."""
    return "unlabelled" if e.get("true") is None else "true" if e["true"] else "false"


def _x_range(s: Series | None, alerts: list[dict[str, Any]]) -> tuple[float, float]:
    ts = np.concatenate([s.ts_ms if s is not None else [], [a["ts_ms"] for a in alerts]]).astype(np.float64)
    return (float(ts.min()), float(ts.max())) if len(ts) else (0.0, 1.0)


def score_plot(pid: str, s: Series | None, alerts: list[dict[str, Any]], episodes: list[dict[str, Any]]) -> str:
    ats, ascore = _alert_points(alerts, "score")
    _, athr = _alert_points(alerts, "threshold")
    x0, x1 = _x_range(s, alerts)
    lo, hi, log = _range(s.score if s else None, s.threshold if s else None, ascore, athr)
    p = TimePlot(pid, WIDTH, 230, (x0, x1), (lo, hi), log=log, title="score and threshold" + (" (log)" if log else ""))
    if s is not None and s.labelled:
        for a, b in _spans(s.y == 1):
            p.band(float(s.ts_ms[a]), float(s.ts_ms[b]), COLORS["label"], top=0.1, tip="labelled anomaly")
    for e in episodes:
        c = COLORS[_verdict(e)]
        tip = f"episode {e['episode_id'][:8]}: {e.get('n_alarms')} alarms, {_verdict(e)}"
        p.band(e["opened_ts"] * 1000, e["last_ts"] * 1000, c, top=0.0, bottom=0.08, tip=tip)
    if s is not None and s.score is not None:
        p.line(s.ts_ms, s.score, COLORS["score"])
        if s.threshold is not None:
            p.line(s.ts_ms, s.threshold, COLORS["threshold"], dash="5 3")
    else:
        p.points(ats, athr, COLORS["threshold"], r=1.8)
    p.points(
        ats,
        ascore,
        "#111",
        r=2.2,
        tips=[f"{a['episode']['event']} {a['ts']}" for a in alerts if a.get("score") is not None],
    )
    return p.svg()


def components_plot(pid: str, s: Series | None, alerts: list[dict[str, Any]]) -> str:
    if s is not None and s.components:
        series = {k: (s.ts_ms, v) for k, v in s.components.items()}
    else:
        names = sorted({k for a in alerts for k in a.get("components") or {}})
        series = {
            k: (
                np.array([a["ts_ms"] for a in alerts if k in (a.get("components") or {})], dtype=np.float64),
                np.array([a["components"][k] for a in alerts if k in (a.get("components") or {})]),
            )
            for k in names
        }
    if not series:
        return '<p class="note">The alerts carry no score components.</p>'
    lo, hi, log = _range(*[v for _, v in series.values()])
    title = "score components" + (" (log)" if log else "") + ("" if s is not None and s.components else ", at alerts")
    p = TimePlot(pid, WIDTH, 170, _x_range(s, alerts), (lo, hi), log=log, title=title)
    for (x, v), c in zip(series.values(), PALETTE * 4, strict=False):
        (p.line if s is not None and s.components else p.points)(x, v, c)
    key = _key(*[(n, c) for n, c in zip(series, PALETTE * 4, strict=False)])
    return p.svg() + key


def _spans(mask: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), (np.flatnonzero(d == -1) - 1).tolist(), strict=True))


def asset_section(i: int, asset: str, run: Run, m: Measured, sensors: dict[str, list[tuple[str, float]]]) -> str:
    s, alerts, eps = run.series.get(asset), run.alerts_of(asset), m.episodes.get(asset, [])
    r = m.runs.get(asset, {})
    facts = [f"{len(s.ts_ms) if s else 0} windows", f"{len(alerts)} alerts", f"{len(eps)} episodes"]
    if r:
        facts.append(
            f"labelled anomaly {'detected' if r['detected'] else 'not detected'}"
            if r["segments"]
            else "no labelled anomaly"
        )
        if r.get("delay_s") is not None:
            facts.append(f"delay {r['delay_s']:+.0f} s")
    out = [f'<h2 id="asset-{i}">{escape(asset)}</h2><p class="note">{escape("; ".join(facts))}</p>']
    out.append(score_plot(f"score-{i}", s, alerts, eps))
    out.append(
        _key(
            ("score", COLORS["score"]),
            ("threshold", COLORS["threshold"]),
            ("labelled anomaly", COLORS["label"]),
            ("true episode", COLORS["true"]),
            ("false episode", COLORS["false"]),
        )
    )
    out.append(components_plot(f"components-{i}", s, alerts))
    rows = _scores_rows(m, asset)
    if rows:
        out.append(_table(["windows flagged", "precision", "recall", "F1", "FAR %", "MAR %"], rows))
    if eps:
        erows = []
        for e in eps:
            top = ", ".join(f"{n} {100 * sh:.0f}%" for n, sh in sensors.get(e["episode_id"], [])) or "(none named)"
            opened = datetime.fromtimestamp(e["opened_ts"], tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
            dur = f"{e['last_ts'] - e['opened_ts']:.0f}"
            mx = "" if e.get("max_score") is None else fmt(e["max_score"])
            erows.append([opened, dur, e["n_alarms"], mx, _verdict(e), top])
        head = ["episode opened (UTC)", "duration s", "alarms", "max score", "", "sensors named"]
        out.append(_table(head, erows, 1, 4))
    return "".join(out)


def _flat(d: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(d, dict):
        return [kv for k, v in d.items() for kv in _flat(v, f"{prefix}{k}.")]
    return [(prefix[:-1], json.dumps(d) if isinstance(d, list | bool) or d is None else str(d))]


def settings(run: Run) -> str:
    rows = [["artifact version (alerts)", ", ".join(run.artifact_versions()) or "(no alerts)"]]
    rows += [[k, v] for k, v in _flat(run.settings)]
    return "<h2>Settings</h2>" + _table(["", ""], rows, 9)


def render(run: Run) -> str:
    m = measure(run)
    sensors = episode_sensors(run.alerts)
    rep = run.reproduced
    if rep is None:
        check = ""
    elif rep["same"]:
        check = (
            f"<p>The offline run of the daemon's chain published the same {rep['live']} alert ids as the live run.</p>"
        )
    else:
        check = (
            f'<p class="bad">The offline run published {rep["offline"]} alerts, the live run {rep["live"]}: '
            f"{rep['only_live']} only live, {rep['only_offline']} only offline. The alerts drawn are the live ones.</p>"
        )
    assets = run.assets()
    nav = " · ".join(f'<a href="#asset-{i}">{escape(a)}</a>' for i, a in enumerate(assets))
    head = (
        f"<h1>latentwatch run report</h1><p class=note>{escape(run.source)}; written "
        f"{datetime.now(tz=UTC).strftime('%Y-%m-%d %H:%M UTC')}</p><p>Scores drawn: {escape(run.scores)}.</p>{check}"
    )
    body = [head, fleet(run, m), f"<p class=note>{nav}</p>"]
    body += [asset_section(i, a, run, m, sensors) for i, a in enumerate(assets)]
    body.append(settings(run))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>latentwatch run report</title>'
        f"<style>{CSS}</style></head><body><main>{''.join(body)}</main></body></html>\n"
    )
