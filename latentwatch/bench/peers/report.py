"""The run's three Markdown tables (AUROC, SKAB, throughput), each with one row per method and one per peer, the
peers that could not run kept with their reason; and the AUROC picture's inputs."""

from __future__ import annotations

from typing import Any

import numpy as np

from latentwatch.bench.peers.registry import PEERS

OWN = {"hst": "QuantileFilter q=0.95"}
SKAB_OWN = "SPOT q=1e-4, 5 of 10, release 20"  # latentwatch's decision path under SKAB's settings


def methods_of(doc: dict[str, Any], part: str = "auroc") -> list[tuple[str, str, bool]]:
    """(key, label, is latentwatch's) in table order: latentwatch's scorers of that part, then every asked peer."""
    cfg = doc["config"]
    ours = cfg["skab_scorers"] if part == "skab" else cfg["scorers"]
    return [(s, f"latentwatch {s}", True) for s in ours] + [(p, PEERS[p].label, False) for p in cfg["peers"]]


def cells_of(doc: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(_cell(r) for r in doc["auroc"]))


def _cell(row: dict[str, Any]) -> str:
    return row["dataset"] if row["setting"] == "labels" else f"{row['dataset']} {row['setting']}"


def auroc_values(doc: dict[str, Any], key: str) -> list[float]:
    got = {_cell(r): 100 * r["auroc_mean"] for r in doc["auroc"] if r["method"] == key}
    return [got.get(c, float("nan")) for c in cells_of(doc)]


def _why(doc: dict[str, Any], key: str, part: str) -> str:
    if key in doc["unavailable"]:
        return f"not run: {doc['unavailable'][key]}"
    if key == "streamad-spot" and part == "auroc":
        return "a thresholder: decides on latentwatch's scores (SKAB table)"
    return ""


def _cell_value(v: float, best: float) -> str:
    if not np.isfinite(v):
        return ""
    return f"**{v:.2f}**" if v == best else f"{v:.2f}"


def auroc_table(doc: dict[str, Any]) -> str:
    cells = cells_of(doc)
    rows = [(label, auroc_values(doc, key), _why(doc, key, "auroc")) for key, label, _ in methods_of(doc)]
    best = [np.nanmax([v[i] for _, v, _ in rows]) for i in range(len(cells))]
    ares = auroc_values(doc, "ares") if "ares" in doc["config"]["scorers"] else None
    out = [
        "| method | " + " | ".join(cells) + " | mean | mean - ares | note |",
        "|---|" + "---:|" * (len(cells) + 2) + "---|",
    ]
    for label, vals, why in rows:
        shown = [
            ("**%.2f**" if v == b else "%.2f") % v if np.isfinite(v) else "" for v, b in zip(vals, best, strict=True)
        ]
        mean = float(np.mean(vals)) if vals and np.isfinite(vals).all() else float("nan")
        gap = mean - float(np.mean(ares)) if ares is not None and np.isfinite(mean) else float("nan")
        m, g = (f"{mean:.2f}", f"{gap:+.2f}" if np.isfinite(gap) else "") if np.isfinite(mean) else ("", "")
        out.append(f"| {label} | " + " | ".join(shown) + f" | {m} | {g} | {why} |")
    return "\n".join(out)


def _fmt(r: dict[str, float] | None) -> str:
    return " | ".join(["", "", ""]) if r is None else f"{r['f1']:.3f} | {r['far']:.2f} | {r['mar']:.2f}"


def skab_table(doc: dict[str, Any]) -> str:
    out = [
        "| method | own thresholding | F1 | FAR, % | MAR, % | F1 (latentwatch SPOT) | FAR, % | MAR, % | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for key, label, ours in methods_of(doc, "skab"):
        r = doc["skab"].get(key)
        if ours:
            how = SKAB_OWN
        elif key == "streamad-spot":
            how = f"SpotDetector on latentwatch {r['on']}'s scores" if r else "SpotDetector"
        else:
            how = {"hst": "QuantileFilter q=0.95"}.get(
                key, "threshold_ (contamination 0.1)" if "pyod" in key else "none"
            )
        own, spot = (r or {}).get("own"), (r or {}).get("spot")
        out.append(f"| {label} | {how} | {_fmt(own)} | {_fmt(spot)} | {_why(doc, key, 'skab')} |")
    return "\n".join(out)


def throughput_table(doc: dict[str, Any]) -> str:
    out = ["| method | windows/s | x latentwatch ares | note |", "|---|---:|---:|---|"]
    for key, label, _ in methods_of(doc):
        t = doc["throughput"].get(key)
        if t is None:
            why = _why(doc, key, "auroc") or "not timed"
            out.append(f"| {label} | | | {why} |")
            continue
        vs = "" if t["vs"] is None else f"{t['vs']:.3f}"
        out.append(f"| {label} | {t['windows_per_s']:,.0f} | {vs} | |")
    return "\n".join(out)


def format_report(doc: dict[str, Any]) -> str:
    parts = [f"latentwatch bench peers ({doc['seconds']:.0f} s)"]
    if doc["auroc"]:
        parts += ["", "AUROC x100 (ARES protocol, mean over seeds and classes):", auroc_table(doc)]
    if doc["skab"]:
        parts += ["", f"SKAB {', '.join(doc['config']['skab_subsets'])} (row (a), test rows, alarmed windows):"]
        parts.append(skab_table(doc))
    if doc["throughput"]:
        parts += ["", f"Scoring throughput ({doc['throughput_data']}):", throughput_table(doc)]
    return "\n".join(parts)
