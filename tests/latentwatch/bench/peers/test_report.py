"""The report's tables: one row per latentwatch scorer and per asked peer, a missing peer kept with its reason;
the AUROC picture: one marker per method and data set."""

from __future__ import annotations

from dataclasses import asdict

from latentwatch.bench.peers import write_svg
from latentwatch.bench.peers.config import PeersConfig
from latentwatch.bench.peers.report import auroc_table, format_report, skab_table, throughput_table

PEERS_ASKED = ("pyod-knn", "xstream", "streamad-spot")


def _doc():
    cfg = PeersConfig(peers=PEERS_ASKED, scorers=("ares", "nln"), skab_scorers=("recon",))
    auroc = [
        {"dataset": ds, "setting": st, "method": m, "auroc_mean": v}
        for ds, st in (("nasa", "labels"), ("snsr", "unimodal"))
        for m, v in (("ares", 0.9), ("nln", 0.8), ("pyod-knn", 0.95))
    ]
    rate = {"windows_per_s": 1000.0, "vs": 1.0}
    spot = {"f1": 0.5, "far": 10.0, "mar": 40.0}
    return {
        "config": asdict(cfg),
        "unavailable": {"xstream": "ImportError: no module named pysad"},
        "auroc": auroc,
        "skab": {"recon": {"own": spot, "spot": None}, "pyod-knn": {"own": spot, "spot": spot}},
        "throughput": {"ares": rate, "nln": rate, "pyod-knn": {"windows_per_s": 500.0, "vs": 0.5}},
        "throughput_data": "nasa",
        "seconds": 1.0,
    }


def _rows(table: str) -> list[str]:
    return table.splitlines()[2:]


def test_every_table_has_one_row_per_peer_and_names_why_one_did_not_run():
    doc = _doc()
    for table, ours in ((auroc_table(doc), 2), (skab_table(doc), 1), (throughput_table(doc), 2)):
        rows = _rows(table)
        assert len(rows) == ours + len(PEERS_ASKED)
        xs = [r for r in rows if r.startswith("| PySAD xStream |")]
        assert len(xs) == 1 and "not run: ImportError: no module named pysad" in xs[0]


def test_auroc_table_marks_the_best_and_the_gap_to_ares():
    rows = {r.split(" | ")[0]: r for r in _rows(auroc_table(_doc()))}
    assert "**95.00**" in rows["| PyOD KNN"] and "+5.00" in rows["| PyOD KNN"]
    assert "| 80.00 | 80.00 | 80.00 | -10.00 |" in rows["| latentwatch nln"]
    assert "thresholder" in rows["| streamad SpotDetector"]


def test_report_and_svg(tmp_path):
    doc = _doc()
    assert "0.500" in format_report(doc)  # the throughput ratio
    path = tmp_path / "auroc.svg"
    write_svg(doc, str(path))
    svg = path.read_text()
    assert svg.startswith("<svg") and svg.count("<title>") == 3 * 2 + 3  # 3 methods x 2 sets + the legend
