"""The evaluation table (text and markdown) and the JSON document around the runs."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

# Column titles as in ARES Table 2 where a method is in it.
TITLES = {
    "lof": "LOF",
    "iforest": "IFOREST",
    "pca": "PCA",
    "ocsvm": "OC-SVM",
    "recon": "AE",
    "ares": "ARES",
    "ares-cal": "ARES-cal",
    "ares-rank": "ARES-rank",
    "ares-knn": "ARES-knn",
    "nln": "NLN",
    "knn-latent": "kNN-lat",
    "lof-latent": "LOF-lat",
    # AE-LFR (training variants lfr = L_A, lfr-b = L_B; scores S_A = recon, S_B = lfr), LFR paper Table 1's names
    "lfr:recon": "L_A S_A",
    "lfr:lfr": "AE-LFR (L_A S_B)",
    "lfr-b:recon": "L_B S_A",
    "lfr-b:lfr": "L_B S_B",
    "lfr:ares": "LFR+ARES",
    "lfr:nln": "LFR+NLN",
    "lfr-b:ares": "L_B+ARES",
    # the denoising AE with the compactness loss and the error MLP (training variant deae; DeAE + MLP poster)
    "deae:recon": "DeAE",
    "deae:deae-mlp": "DeAE+MLP",
    "deae:ares": "DeAE+ARES",
    "deae:nln": "DeAE+NLN",
    # the VAE backbone (training variant vae): the decoder fed the mean, its own scores, ARES/NLN on its means
    "vae:recon": "VAE mean",
    "vae:vae-elbo": "VAE ELBO",
    "vae:vae-recon-prob": "VAE recon prob",
    "vae:ares": "VAE+ARES",
    "vae:nln": "VAE+NLN",
    # CANCE (training variant cance): its Table 1 ablation (Error, LatNCE, CNCE, CANCE), ARES/NLN on its latents
    "cance:recon": "CANCE Error",
    "cance:latnce": "LatNCE",
    "cance:cnce": "CNCE",
    "cance:cance": "CANCE",
    "cance:ares": "CANCE+ARES",
    "cance:nln": "CANCE+NLN",
}
SETTING_TITLES = {"labels": "", "unimodal": "unimodal", "multimodal": "multimodal"}


def git_info(repo: Path) -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            r = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def row_label(dataset: str, setting: str) -> str:
    s = SETTING_TITLES.get(setting, setting)
    return dataset.upper() + (f" {s}" if s else "")


def table_rows(
    aggregates: list[dict[str, Any]], methods: list[str], metric: str = "auroc"
) -> tuple[list[str], list[list[str]]]:
    """(header, rows): AUROC x100 'mean±std' per method; the best mean of each row is marked with '*'."""
    cells: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for a in aggregates:
        cells.setdefault((a["dataset"], a["setting"]), {})[a["method"]] = a
    # labelled data sets first, then unimodal, then multimodal; data sets in run order within each group
    order = {"labels": 0, "unimodal": 1, "multimodal": 2}
    first = {ds: i for i, ds in reversed(list(enumerate(k[0] for k in cells)))}
    keys = sorted(cells, key=lambda k: (order.get(k[1], 9), first[k[0]]))
    header = ["data set", *(TITLES.get(m, m) for m in methods)]
    rows = []
    for key in keys:
        by = cells[key]
        best = max((by[m][f"{metric}_mean"] for m in methods if m in by), default=None)
        row = [row_label(*key)]
        for m in methods:
            if m not in by:
                row.append("-")
                continue
            mean, std = 100 * by[m][f"{metric}_mean"], 100 * by[m][f"{metric}_std"]
            mark = "*" if best is not None and by[m][f"{metric}_mean"] == best else ""
            row.append(f"{mean:.2f}±{std:.2f}{mark}")
        rows.append(row)
    return header, rows


def render_text(aggregates: list[dict[str, Any]], methods: list[str], metric: str = "auroc") -> str:
    header, rows = table_rows(aggregates, methods, metric)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt(r: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=False)))

    lines = [fmt(header), "  ".join("-" * w for w in widths), *(fmt(r) for r in rows)]
    return "\n".join(lines)


def render_markdown(aggregates: list[dict[str, Any]], methods: list[str], metric: str = "auroc") -> str:
    header, rows = table_rows(aggregates, methods, metric)
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    for r in rows:
        out.append("| " + " | ".join([r[0], *(f"**{c[:-1]}**" if c.endswith("*") else c for c in r[1:])]) + " |")
    return "\n".join(out)


def methods_in(cfg_scorers: list[str], cfg_baselines: list[str]) -> list[str]:
    """Table column order: baselines first (as in ARES Table 2), then the autoencoder scorers."""
    return [*cfg_baselines, *cfg_scorers]
