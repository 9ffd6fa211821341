"""Scoring throughput in one process: every method scores the same windows, batch by batch, interleaved.

Each round sends every batch through every method in turn (the order rotated per round), so a slow spell of the
shared machine falls on all methods alike; a method's rate is its median over rounds, a ratio the median of the
per-round ratios to the reference method.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np


def measure(
    methods: dict[str, Callable[[np.ndarray], Any]], X: np.ndarray, batch: int, rounds: int, against: str = "ares"
) -> dict[str, dict[str, float | None]]:
    """{method: {"windows_per_s": median rate, "vs": median ratio to ``against`` (None when it is not timed)}}."""
    names = list(methods)
    if not names or len(X) < batch:
        raise ValueError(f"need at least one method and {batch} windows, got {len(names)} and {len(X)}")
    batches = [X[a : a + batch] for a in range(0, len(X) - batch + 1, batch)]
    n = sum(len(b) for b in batches)
    for name in names:  # warm-up: first-call costs (imports, allocations) are not throughput
        methods[name](batches[0])
    rates: dict[str, list[float]] = {m: [] for m in names}
    for r in range(rounds):
        spent = dict.fromkeys(names, 0.0)
        for b in batches:
            for j in range(len(names)):
                name = names[(j + r) % len(names)]
                t = time.perf_counter()
                methods[name](b)
                spent[name] += time.perf_counter() - t
        for name in names:
            rates[name].append(n / max(spent[name], 1e-9))
    out: dict[str, dict[str, float | None]] = {}
    for name in names:
        vs = None
        if against in rates:
            vs = float(np.median(np.array(rates[name]) / np.array(rates[against])))
        out[name] = {"windows_per_s": float(np.median(rates[name])), "vs": vs}
    return out
