"""SKAB's leaderboard tables read from the shared copy, with our rows inserted in F1 / NAB order."""

from __future__ import annotations

from pipelines.evaluate.skab.report import leaderboard_tables, nab_table, outlier_table


def _row(f1, far, mar, nab):
    return {
        "binary": {"f1": f1, "far": far, "mar": mar},
        "nab": {"standard": nab, "low_fp": nab - 1, "low_fn": nab + 1},
        "changepoints": {"missed": 70, "false_positives": 40},
    }


def test_the_shared_leaderboard_parses_and_our_rows_land_by_score():
    board = leaderboard_tables()
    assert ["Conv-AE", "0.78", "13.55", "28.02"] in board["outlier"]
    assert len(board["outlier"]) == 12 and len(board["changepoint"]) == 12
    rows = {"recon": {"leaderboard": {"alarmed": {"pooled": _row(0.79, 9.5, 20.0, 24.0)}}}}
    lines = outlier_table(rows, board["outlier"]).splitlines()
    ours = next(i for i, line in enumerate(lines) if "latentwatch (a)" in line)
    assert "Perfect detector" in lines[ours - 1] and "Conv-AE" in lines[ours + 1]
    assert "**0.79** | **9.50** | **20.00**" in lines[ours]
    nab = nab_table(rows, board["changepoint"]).splitlines()
    i = next(i for i, line in enumerate(nab) if "latentwatch (a)" in line)
    assert "T-squared+Q" in nab[i - 1] and "Conv-AE" in nab[i + 1] and "**70** | **40**" in nab[i]
