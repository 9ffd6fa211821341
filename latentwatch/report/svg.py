"""Hand-written inline SVG: time plots (lines, points, bands, spans) and horizontal bar rows, with their axes.

Every plot is an ``<svg class="plot" id=...>`` whose data sit inside ``<rect class="frame">`` and nothing else does
(ticks and labels are outside it), so a render check can tell a plot with data from an empty frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

import numpy as np

MARGIN = (64, 12, 22, 26)  # left, right, top, bottom


def _num(v: float) -> str:
    return f"{v:.1f}"


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not hi > lo:
        return [lo]
    step = 10 ** math.floor(math.log10((hi - lo) / n))
    for m in (1, 2, 5, 10):
        if (hi - lo) / (step * m) <= n:
            step *= m
            break
    return [t for t in np.arange(math.ceil(lo / step) * step, hi + step / 2, step).tolist() if lo <= t <= hi]


def fmt(v: float) -> str:
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 1e4 or a < 1e-2:
        return f"{v:.0e}"
    return f"{v:.3g}"


def time_label(ms: float, span_ms: float) -> str:
    t = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return t.strftime("%m-%d %H:%M" if span_ms > 2 * 86_400_000 else "%H:%M:%S" if span_ms < 600_000 else "%H:%M")


class TimePlot:
    """x: epoch ms; y: linear, or log10 when ``log`` (values at or below zero are clipped to the bottom)."""

    def __init__(
        self,
        pid: str,
        width: int,
        height: int,
        x_range: tuple[float, float],
        y_range: tuple[float, float],
        *,
        log: bool = False,
        title: str = "",
    ) -> None:
        self.pid, self.w, self.h, self.log, self.title = pid, width, height, log, title
        self.x0, self.x1 = x_range[0], max(x_range[1], x_range[0] + 1)
        lo, hi = y_range
        if log:
            lo, hi = math.log10(max(lo, 1e-12)), math.log10(max(hi, 1e-12))
        pad = (hi - lo) * 0.05 or 1.0
        self.y0, self.y1 = lo - pad, hi + pad
        left, right, top, bottom = MARGIN
        self.px0, self.px1, self.py0, self.py1 = left, width - right, top, height - bottom
        self.items: list[str] = []

    def x(self, ms: Any) -> np.ndarray:
        return self.px0 + (np.asarray(ms, dtype=np.float64) - self.x0) / (self.x1 - self.x0) * (self.px1 - self.px0)

    def y(self, v: Any) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        if self.log:
            v = np.log10(np.maximum(v, 10**self.y0))
        v = np.clip(v, self.y0, self.y1)
        out: np.ndarray = self.py1 - (v - self.y0) / (self.y1 - self.y0) * (self.py1 - self.py0)
        return out

    def band(self, x0: float, x1: float, color: str, *, top: float = 0.0, bottom: float = 1.0, tip: str = "") -> None:
        """A vertical span from ``x0`` to ``x1`` (ms), covering ``top``..``bottom`` of the frame's height."""
        a, b = self.x([x0, x1])
        h = self.py1 - self.py0
        y = self.py0 + top * h
        t = f"<title>{escape(tip)}</title>" if tip else ""
        self.items.append(
            f'<rect x="{_num(a)}" y="{_num(y)}" width="{_num(max(b - a, 1.5))}" height="{_num((bottom - top) * h)}" '
            f'fill="{color}">{t}</rect>'
        )

    def line(self, xs: Any, ys: Any, color: str, *, width: float = 1.2, dash: str = "") -> None:
        px, py = self._decimate(self.x(xs), self.y(ys))
        if len(px) == 0:
            return
        pts = " ".join(f"{_num(a)},{_num(b)}" for a, b in zip(px, py, strict=True))
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.items.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="{width}"{d}/>')

    def points(self, xs: Any, ys: Any, color: str, *, r: float = 2.5, tips: Sequence[str] = ()) -> None:
        for i, (a, b) in enumerate(zip(self.x(xs), self.y(ys), strict=True)):
            t = f"<title>{escape(tips[i])}</title>" if i < len(tips) else ""
            self.items.append(f'<circle cx="{_num(a)}" cy="{_num(b)}" r="{r}" fill="{color}">{t}</circle>')

    def _decimate(self, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """At most two points per pixel column (its min and max), so spikes survive and the file stays small."""
        ok = np.isfinite(py)
        px, py = px[ok], py[ok]
        if len(px) <= 2 * (self.px1 - self.px0):
            return px, py
        col = np.floor(px).astype(np.int64)
        starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
        lo, hi = np.minimum.reduceat(py, starts), np.maximum.reduceat(py, starts)
        return np.repeat(px[starts], 2), np.column_stack([lo, hi]).ravel()

    def _axes(self) -> str:
        out = []
        inner = (self.y1 - self.y0) * 0.04
        ticks = nice_ticks(self.y0 + inner, self.y1 - inner, 4)
        for t in ticks:
            py = self.py0 + (self.y1 - t) / (self.y1 - self.y0) * (self.py1 - self.py0)
            label = fmt(10**t) if self.log else fmt(t)
            out.append(f'<text x="{self.px0 - 4}" y="{_num(py + 3)}" text-anchor="end">{label}</text>')
            out.append(f'<line x1="{self.px0 - 3}" x2="{self.px0}" y1="{_num(py)}" y2="{_num(py)}" stroke="#666"/>')
        span = self.x1 - self.x0
        for k, t in enumerate(np.linspace(self.x0, self.x1, 6)):
            px = float(self.x(t))
            anchor = "start" if k == 0 else "end" if k == 5 else "middle"
            out.append(f'<text x="{_num(px)}" y="{self.py1 + 14}" text-anchor="{anchor}">{time_label(t, span)}</text>')
            out.append(f'<line x1="{_num(px)}" x2="{_num(px)}" y1="{self.py1}" y2="{self.py1 + 3}" stroke="#666"/>')
        if self.title:
            out.append(f'<text x="{self.px0}" y="{self.py0 - 7}" class="ptitle">{escape(self.title)}</text>')
        return "".join(out)

    def svg(self) -> str:
        clip = f"clip-{self.pid}"
        w, h = self.px1 - self.px0, self.py1 - self.py0
        return (
            f'<svg class="plot" id="{self.pid}" width="{self.w}" height="{self.h}" viewBox="0 0 {self.w} {self.h}" '
            f'xmlns="http://www.w3.org/2000/svg"><defs><clipPath id="{clip}"><rect x="{self.px0}" y="{self.py0}" '
            f'width="{w}" height="{h}"/></clipPath></defs>{self._axes()}<g class="data" clip-path="url(#{clip})">'
            f'{"".join(self.items)}</g><rect class="frame" x="{self.px0}" y="{self.py0}" width="{w}" height="{h}" '
            'fill="none" stroke="#999"/></svg>'
        )


def bar_rows(
    pid: str,
    labels: Sequence[str],
    stacks: Sequence[tuple[str, Sequence[float], str]],
    *,
    width: int,
    row: int = 16,
    label_width: int = 130,
    title: str = "",
    zero_line: bool = False,
) -> str:
    """One row per label; each stack (name, values, colour) adds a segment from the previous one's end (values
    may be NaN: nothing drawn). With ``zero_line`` the values are signed (a delay) and drawn as dots from 0."""
    left, right, top, bottom = label_width, 14, 22, 26
    h = top + row * len(labels) + bottom
    vals = np.array([np.asarray(v, dtype=np.float64) for _, v, _ in stacks]).reshape(len(stacks), len(labels))
    finite = vals[np.isfinite(vals)]
    if zero_line:
        lo, hi = min(0.0, float(finite.min(initial=0))), max(0.0, float(finite.max(initial=0)))
    else:
        lo, hi = 0.0, float(np.nansum(vals, axis=0).max(initial=0)) if len(labels) else 0.0
    hi = hi if hi > lo else lo + 1
    if zero_line:
        lo, hi = lo - 0.06 * (hi - lo), hi + 0.06 * (hi - lo)
    pw = width - left - right

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * pw

    items, axes = [], []
    for i, label in enumerate(labels):
        y = top + i * row
        axes.append(f'<text x="{left - 4}" y="{y + row - 4}" text-anchor="end">{escape(label)}</text>')
        base = 0.0
        for (name, _, color), v in zip(stacks, vals[:, i], strict=True):
            if not np.isfinite(v):
                continue
            tip = f"<title>{escape(label)}: {name} {fmt(float(v))}</title>"
            if zero_line:
                items.append(f'<circle cx="{_num(x(v))}" cy="{y + row / 2}" r="4" fill="{color}">{tip}</circle>')
            elif v > 0:
                items.append(
                    f'<rect x="{_num(x(base))}" y="{y + 2}" width="{_num(x(base + v) - x(base))}" height="{row - 4}" '
                    f'fill="{color}">{tip}</rect>'
                )
                base += float(v)
    if zero_line:
        items.append(f'<line x1="{_num(x(0))}" x2="{_num(x(0))}" y1="{top}" y2="{h - bottom}" stroke="#bbb"/>')
    for t in nice_ticks(lo, hi, 5):
        axes.append(f'<text x="{_num(x(t))}" y="{h - bottom + 14}" text-anchor="middle">{fmt(t)}</text>')
    if title:
        axes.append(f'<text x="{left}" y="{top - 7}" class="ptitle">{escape(title)}</text>')
    return (
        f'<svg class="plot" id="{pid}" width="{width}" height="{h}" viewBox="0 0 {width} {h}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(axes)}<g class="data">{"".join(items)}</g>'
        f'<rect class="frame" x="{left}" y="{top}" width="{pw}" height="{h - top - bottom}" fill="none" '
        'stroke="#999"/></svg>'
    )
