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


def _ours(rows: dict[str, Any], flagged: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (ROW_TITLES[r] + ("" if flagged == "alarmed" else ", episode rows"), rows[r][flagged]["pooled"]) for r in rows
    ]


def outlier_table(rows: dict[str, Any], board: list[list[str]], flagged: str = "alarmed") -> str:
    lines = [(float(c[1]), f"|{c[0]} | {c[1]} | {c[2]} | {c[3]}") for c in board]
    for title, r in _ours(rows, flagged):
        b = r["binary"]
        lines.append((b["f1"], f"|**{title}** | **{b['f1']:.2f}** | **{b['far']:.2f}** | **{b['mar']:.2f}**"))
    lines.sort(key=lambda t: -t[0])
    return "\n".join(["| Algorithm | F1 | FAR, % | MAR, %", "|---|---|---|---", *(t[1] for t in lines)])


def nab_table(rows: dict[str, Any], board: list[list[str]], flagged: str = "alarmed") -> str:
    lines = [(float(c[1]), "|" + " | ".join(c)) for c in board]
    for title, r in _ours(rows, flagged):
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


def detail_table(rows: dict[str, Any]) -> str:
    """Per row, flag series and subset: F1/FAR/MAR, NAB standard, faults detected, median delay, false episodes."""
    head = [
        "| Row | Flagged | Files | F1 | FAR, % | MAR, % | NAB std | Faults detected | Median delay, s | "
        "False episodes / 1,000 normal",
        "|---|---|---|---|---|---|---|---|---|---",
    ]
    for row, res in rows.items():
        for fl in FLAGGED:
            for part in ("pooled", *SUBSETS):
                if part not in res[fl]:
                    continue
                r = res[fl][part]
                b, f = r["binary"], r["faults"]
                delay = "-" if f["median_delay_s"] is None else f"{f['median_delay_s']:.0f}"
                head.append(
                    f"| {ROW_LETTER[row]} | {fl} | {part} | {b['f1']:.3f} | {b['far']:.2f} | {b['mar']:.2f} | "
                    f"{r['nab']['standard']:.2f} | {f['detected']}/{f['of']} | {delay} | "
                    f"{f['false_episodes_per_1000_normal']:.2f}"
                )
    return "\n".join(head)


def render(rows: dict[str, Any], data_dir: str | None = None) -> str:
    board = leaderboard_tables(data_dir)
    return "\n\n".join(
        [
            "Outlier detection (rows flagged = alarmed windows)",
            outlier_table(rows, board.get("outlier", [])),
            "Changepoint detection (NAB, 60 s to the right)",
            nab_table(rows, board.get("changepoint", [])),
            "Per subset",
            detail_table(rows),
        ]
    )


def write_markdown(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
