"""The printed report of `latentwatch bench scoring` and its goal checks."""

from __future__ import annotations

from typing import Any

from latentwatch.bench.scoring.config import BenchConfig
from latentwatch.bench.scoring.measure import SizeResult


def _fmt_ratio(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.2f}" if v >= 0.1 else f"{v:.4f}"


def _fmt_rate(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"


def _size_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def goals(results: list[SizeResult]) -> list[dict[str, Any]]:
    """The issue's goals, per size: ARES vs the raw Annoy loop, PyOD KNN, and PyOD IsolationForest (<= 100k)."""
    out = []
    for r in results:
        v = r.vs_ares
        if "ares" not in r.rates:
            continue
        checks = [
            ("ares >= annoy-loop", "annoy-loop", 1.0, False, True),
            ("ares > pyod-knn", "pyod-knn", 1.0, True, True),
            ("ares >= 0.5 x pyod-iforest", "pyod-iforest", 0.5, False, r.size <= 100_000),
        ]
        for goal, peer, need, strict, applies in checks:
            if not v.get(peer):
                continue
            ratio = 1.0 / v[peer]  # ares / peer
            ok = ratio > need if strict else ratio >= need
            out.append(
                {
                    "size": r.size,
                    "goal": goal,
                    "ares_over_peer": round(ratio, 2),
                    "status": ("met" if ok else "MISSED") if applies else "n/a (> 100k)",
                }
            )
    return out


def format_report(
    cfg: BenchConfig, source_desc: str, model_metrics: dict[str, dict[str, Any]], results: list[SizeResult]
) -> str:
    """The printed report; model_metrics: training variant -> its model's training metrics."""
    from pipelines.reference.search import DEFAULT_EXACT_MAX

    lines = []
    lines.append(f"data: {source_desc}")
    epochs = ", ".join(f"{v} {m.get('epochs_run')}" for v, m in model_metrics.items())
    lines.append(
        f"models (training variant, epochs): {epochs}; latent {cfg.latent}, on {cfg.train_rows:,} "
        f"windows | batch {cfg.batch} | {cfg.queries:,} query windows | {cfg.rounds} rounds, median"
    )
    lines.append(
        f"search threads {cfg.threads}, torch threads {cfg.torch_threads or 'default'} | annoy "
        f"n_trees={cfg.n_trees} search_k={cfg.search_k} | pyod on {cfg.pyod_space} rows, n_jobs "
        f"{cfg.threads} | reference search: exact up to DEFAULT_EXACT_MAX={DEFAULT_EXACT_MAX:,}"
    )
    lines.append("")
    lines.append("reference")
    lines.append(
        f"{'size':>9} {'items':>9} {'build_s':>8} {'rss_mib':>8} {'held_mib':>9} {'annoy_mib':>10} "
        f"{'method':>7} {'far_rows':>8} {'far_recall':>10} {'far_ares_change':>15} {'far_flips':>9} "
        f"{'annoy_recall@' + str(cfg.k):>16}"
    )
    for r in results:
        annoy_mib = "-" if r.annoy_mib is None else f"{r.annoy_mib:.1f}"
        recall = "-" if r.recall is None else f"{r.recall:.4f}"
        far = "-" if r.far_rows is None else f"{r.far_rows:.2%}"
        change = "-" if r.far_ares_change is None else f"{r.far_ares_change:.2%}"
        flips = "-" if r.far_flips is None else str(r.far_flips)
        far_recall = "-" if r.far_recall is None else f"{r.far_recall:.4f}"
        lines.append(
            f"{_size_label(r.size):>9} {r.items:>9,} {r.build_s:>8.1f} {r.rss_growth_mib:>8.1f} "
            f"{r.held_mib:>9.1f} {annoy_mib:>10} {r.method:>7} {far:>8} {far_recall:>10} {change:>15} "
            f"{flips:>9} {recall:>16}"
        )
    lines.append("")
    names: list[str] = []
    for r in results:
        names += [n for n in r.rates if n not in names]
    head = f"{'method':<17} {'kind':<7} {'model':<6}" + "".join(
        f" {_size_label(r.size) + ' w/s':>12} {'vs_ares':>8}" for r in results
    )
    lines.append(
        f"far_rows: query windows beyond the exact search's far radius, given (1+far_eps)-approximate "
        f"neighbours (far_eps={cfg.far_eps:g}); far_recall:"
    )
    lines.append(
        "their recall@k; far_ares_change: the largest relative change that makes to an ARES score; "
        "far_flips: windows it moves across"
    )
    lines.append("the 99th percentile of the calibration scores")
    lines.append("")
    lines.append(
        "windows/s (vs_ares = rate / the rate of ARES on the ae model in the same rounds; model: the training "
        "variant a scorer runs on, each with its own reference of the same windows)"
    )
    lines.append(head)
    for n in names:
        kind = next((r.kinds[n] for r in results if n in r.kinds), "")
        model = next((r.models[n] for r in results if n in r.models), "-")
        row = f"{n:<17} {kind:<7} {model:<6}"
        for r in results:
            rate, ratio = r.rates.get(n), r.vs_ares.get(n)
            row += f" {_fmt_rate(rate):>12} {_fmt_ratio(ratio):>8}"
        lines.append(row)
    g = goals(results)
    if g:
        lines.append("")
        lines.append("goals (ares/peer = ARES windows/s over the peer's, same rounds)")
        for x in g:
            lines.append(
                f"  {_size_label(x['size']):>5}  {x['goal']:<28} ares/peer {x['ares_over_peer']:>7.2f}  {x['status']}"
            )
    for r in results:
        for note in r.notes:
            lines.append(f"  note {_size_label(r.size)}: {note}")
    for r in results:
        if r.tune:
            lines.append("")
            lines.append(f"annoy sweep at {_size_label(r.size)} (one-thread loop, k={cfg.k}, recall vs exact)")
            lines.append(f"{'n_trees':>8} {'search_k':>9} {'build_s':>8} {'loop_q/s':>9} {'recall':>7} {'short':>6}")
            for t in r.tune:
                lines.append(
                    f"{t['n_trees']:>8} {t['search_k']:>9} {t['build_s']:>8.2f} {t['loop_q_s']:>9,} "
                    f"{t['recall']:>7.4f} {t['short_rows']:>6}"
                )
    for r in results:
        if r.profile:
            lines.append("")
            lines.append(
                f"ares profile at {_size_label(r.size)}: {r.profile['ms_per_batch']} ms/batch, "
                + ", ".join(f"{k} {v}%" for k, v in r.profile["stages_pct"].items())
            )
            lines += ["  " + ln for ln in r.profile["cprofile_top"]]
    return "\n".join(lines)
