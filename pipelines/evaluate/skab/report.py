"""`latentwatch evaluate --protocol skab`: run the rows, keep the record, render SKAB's tables with ours in them."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pipelines.data import resolve_data_dir
from pipelines.evaluate.skab.runner import FLAGGED, per_file, prepare, report, select_runs, stream_all
from pipelines.evaluate.skab.settings import FIT_ROWS, SUBSETS, SkabSettings

ROW_LETTER = {"leaderboard": "(a)", "deployment": "(b)"}
ROW_TITLES = {"leaderboard": "latentwatch (a) per-file model", "deployment": "latentwatch (b) anomaly-free model"}
PROTOCOL = {
    "files": "the 34 labelled files of valve1, valve2, other; anomaly-free.csv is not a test file",
    "fit": f"each file's first {FIT_ROWS} rows (unfiltered, labels unread) are its only fitting and calibration data",
    "test": f"rows {FIT_ROWS}.. of each file, one decision per row; a window decides the row it ends on",
    "pooled": "TP/FP/FN/TN summed over all test rows of all files",
    "path": "OnlineModel.score -> ThresholdBank -> pipelines.threshold.persistence.decide -> EpisodeTracker",
    "flagged": {"alarmed": "the windows the decision alarmed", "episode": "rows inside an open episode"},
    "nab": "60 s windows to the right of each labelled changepoint, as waico/SKAB core/metrics.py",
    "rows": {
        "leaderboard": "(a) scaler, autoencoder, reference and calibration per file from its fit windows",
        "deployment": "(b) one autoencoder trained on anomaly-free.csv only; per asset its own input scaler, "
        "reference and calibration from its fit windows",
    },
}


def run_rows(
    rows: Sequence[str],
    s: SkabSettings,
    subsets: Sequence[str] = SUBSETS,
    data_dir: str | None = None,
    progress: Callable[[str], None] | None = None,
    whole: bool = False,
) -> dict[str, Any]:
    runs = select_runs(data_dir, subsets)
    out: dict[str, Any] = {}
    for row in rows:
        results = stream_all(prepare(row, s, runs, data_dir, progress, whole), s)
        out[row] = {fl: report(results, fl) for fl in FLAGGED}
        out[row]["per_file"] = per_file(results)
    return out


def run_methods(
    rows: Sequence[str],
    methods: Sequence[SkabSettings],
    subsets: Sequence[str] = SUBSETS,
    data_dir: str | None = None,
    progress: Callable[[str], None] | None = None,
    whole: bool = False,
) -> dict[str, dict[str, Any]]:
    """{method label: run_rows of its settings}, one method after the other on the same files."""
    out: dict[str, dict[str, Any]] = {}
    for m in methods:
        label = m.label()
        say = None if progress is None else _prefixed(progress, label)
        out[label] = run_rows(rows, m, subsets, data_dir, say, whole)
    return out


def _prefixed(progress: Callable[[str], None], label: str) -> Callable[[str], None]:
    return lambda msg: progress(f"{label} {msg}")


def leaderboard_tables(data_dir: str | None = None) -> dict[str, list[list[str]]]:
    """SKAB's two leaderboard tables as rows of cells ('outlier', 'changepoint'), from the shared copy."""
    text = (resolve_data_dir(data_dir) / "skab" / "LEADERBOARD.md").read_text()
    tables: dict[str, list[list[str]]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("### Outlier"):
            current = "outlier"
        elif line.startswith("### Changepoint"):
            current = "changepoint"
        elif current and line.startswith("|") and not re.match(r"^\|\s*(Algorithm|-)", line):
            tables.setdefault(current, []).append([c.strip() for c in line.strip().strip("|").split("|")])
    return tables


PLAIN = SkabSettings().label()  # the settings' own method: its rows carry no method name in the titles


def _title(row: str, label: str) -> str:
    return ROW_TITLES[row] + ("" if label == PLAIN else f", {label}")


def _ours(methods: dict[str, dict[str, Any]], flagged: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (_title(r, label) + ("" if flagged == "alarmed" else ", episode rows"), rows[r][flagged]["pooled"])
        for label, rows in methods.items()
        for r in rows
        if r in ROW_TITLES
    ]


def outlier_table(methods: dict[str, dict[str, Any]], board: list[list[str]], flagged: str = "alarmed") -> str:
    """SKAB's outlier table with each method's rows inserted by F1; methods: {label: run_rows(...)}."""
    lines = [(float(c[1]), f"|{c[0]} | {c[1]} | {c[2]} | {c[3]}") for c in board]
    for title, r in _ours(methods, flagged):
        b = r["binary"]
        lines.append((b["f1"], f"|**{title}** | **{b['f1']:.2f}** | **{b['far']:.2f}** | **{b['mar']:.2f}**"))
    lines.sort(key=lambda t: -t[0])
    return "\n".join(["| Algorithm | F1 | FAR, % | MAR, %", "|---|---|---|---", *(t[1] for t in lines)])


def nab_table(methods: dict[str, dict[str, Any]], board: list[list[str]], flagged: str = "alarmed") -> str:
    lines = [(float(c[1]), "|" + " | ".join(c)) for c in board]
    for title, r in _ours(methods, flagged):
        n, cp = r["nab"], r["changepoints"]
        lines.append(
            (
                n["standard"],
                f"|**{title}** | **{n['standard']:.2f}** | **{n['low_fp']:.2f}** | "
                f"**{n['low_fn']:.2f}** | **{cp['missed']}** | **{cp['false_positives']}**",
            )
        )
    lines.sort(key=lambda t: -t[0])
    return "\n".join(
        [
            "| Algorithm | NAB (standard) | NAB (LowFP) | NAB (LowFN) | Number of Missed CPs | Number of FPs",
            "|---|---|---|---|---|---",
            *(t[1] for t in lines),
        ]
    )


def detail_table(methods: dict[str, dict[str, Any]]) -> str:
    """Per method, row, flag series and subset: F1/FAR/MAR, NAB standard, faults detected, median delay, false
    episodes."""
    head = [
        "| Row | Flagged | Files | F1 | FAR, % | MAR, % | NAB std | Faults detected | Median delay, s | "
        "False episodes / 1,000 normal",
        "|---|---|---|---|---|---|---|---|---|---",
    ]
    cells = [(r, v, label) for label, rows in methods.items() for r, v in rows.items() if r in ROW_LETTER]
    for row, res, label in cells:
        name = ROW_LETTER[row] + ("" if label == PLAIN else f" {label}")
        for fl in FLAGGED:
            for part in ("pooled", *SUBSETS):
                if part not in res[fl]:
                    continue
                r = res[fl][part]
                b, f = r["binary"], r["faults"]
                delay = "-" if f["median_delay_s"] is None else f"{f['median_delay_s']:.0f}"
                head.append(
                    f"| {name} | {fl} | {part} | {b['f1']:.3f} | {b['far']:.2f} | {b['mar']:.2f} | "
                    f"{r['nab']['standard']:.2f} | {f['detected']}/{f['of']} | {delay} | "
                    f"{f['false_episodes_per_1000_normal']:.2f}"
                )
    return "\n".join(head)


def render(methods: dict[str, dict[str, Any]], data_dir: str | None = None) -> str:
    """SKAB's two tables with every method's rows in them, and the per-subset table; methods: {label: rows}."""
    board = leaderboard_tables(data_dir)
    return "\n\n".join(
        [
            "Outlier detection (rows flagged = alarmed windows)",
            outlier_table(methods, board.get("outlier", [])),
            "Changepoint detection (NAB, 60 s to the right)",
            nab_table(methods, board.get("changepoint", [])),
            "Per subset",
            detail_table(methods),
        ]
    )


def write_markdown(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
