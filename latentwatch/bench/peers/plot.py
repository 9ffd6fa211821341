"""The AUROC-by-data-set picture: one row per data set, one marker per method, latentwatch's in filled shapes."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

from latentwatch.report.svg import nice_ticks

COLOURS = ("#1b6ac9", "#d1495b", "#2a9d8f", "#e9a23b", "#6a4c93", "#8c564b", "#3a9d23", "#7f7f7f", "#17becf")
LATENTWATCH = "#111"


def _marker(kind: int, x: float, y: float, colour: str, filled: bool, tip: str) -> str:
    fill = colour if filled else "none"
    style = f'fill="{fill}" stroke="{colour}" stroke-width="1.6"'
    if kind % 3 == 0:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" {style}><title>{tip}</title></circle>'
    if kind % 3 == 1:
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" {style}><title>{tip}</title></rect>'
    pts = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} {x - 5:.1f},{y + 4:.1f}"
    return f'<polygon points="{pts}" {style}><title>{tip}</title></polygon>'


def auroc_svg(
    cells: Sequence[str], methods: Sequence[tuple[str, Sequence[float], bool]], title: str, width: int = 760
) -> str:
    """``methods``: (label, AUROC x100 per cell (NaN: not run), is latentwatch's). A standalone SVG document."""
    left, right, top, row, legend_row = 130, 16, 30, 26, 16
    legend_h = legend_row * ((len(methods) + 2) // 3) + 8
    h = top + row * len(cells) + 26 + legend_h
    vals = np.array([np.asarray(v, dtype=np.float64) for _, v, _ in methods]).reshape(len(methods), len(cells))
    finite = vals[np.isfinite(vals)]
    peer_no = np.cumsum([not ours for _, _, ours in methods]) - 1
    colours = [LATENTWATCH if ours else COLOURS[peer_no[j] % len(COLOURS)] for j, (_, _, ours) in enumerate(methods)]
    lo = float(np.floor(finite.min(initial=50) / 5) * 5)
    hi = float(min(100.0, np.ceil(finite.max(initial=100) / 5) * 5))
    hi = hi if hi > lo else lo + 5

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (width - left - right)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" font-family="sans-serif" '
        f'font-size="11"><rect width="{width}" height="{h}" fill="#fff"/>',
        f'<text x="{left}" y="16" font-size="13">{escape(title)}</text>',
    ]
    for t in nice_ticks(lo, hi, 6):
        out.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top}" y2="{top + row * len(cells)}" stroke="#eee"/>')
        out.append(f'<text x="{x(t):.1f}" y="{top + row * len(cells) + 14}" text-anchor="middle">{t:g}</text>')
    for i, cell in enumerate(cells):
        y = top + i * row + row / 2
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{escape(cell)}</text>')
        for j, (label, _, ours) in enumerate(methods):
            v = vals[j, i]
            if np.isfinite(v):
                out.append(_marker(j, x(v), y, colours[j], ours, f"{escape(label)} {escape(cell)}: {v:.2f}"))
    ly = top + row * len(cells) + 30
    for j, (label, _, ours) in enumerate(methods):
        lx, yy = left + (j % 3) * 200, ly + (j // 3) * legend_row
        out.append(_marker(j, lx, yy, colours[j], ours, escape(label)))
        out.append(f'<text x="{lx + 10}" y="{yy + 4}">{escape(label)}</text>')
    out.append(f'<text x="{left - 8}" y="{top + row * len(cells) + 14}" text-anchor="end">AUROC x100</text>')
    return "\n".join(out) + "\n</svg>\n"
