"""Throughput of ``ThresholdBank.process`` on normal traffic: ``python -m pipelines.threshold.bench``.

Scores are chi-square(8) draws (what a squared z-distance over 8 sensors gives on normal data), so about
1 - level of the windows are peaks (each one a GPD refit) and about q are alarms. Wall-clock rates suffer when
other processes share the cores; the per-CPU-second rate is the one to compare across runs.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from pipelines.threshold.bank import ThresholdBank


def run(method: str, n_assets: int, n_windows: int, batch: int, seed: int = 0, **params: object) -> dict:
    rng = np.random.default_rng(seed)
    bank = ThresholdBank(method, rng.chisquare(8, 20_000), **params)
    names = [f"asset-{i:03d}" for i in range(n_assets)]
    assets = [names[i] for i in rng.integers(0, n_assets, n_windows)]
    scores = rng.chisquare(8, n_windows)
    bank.process(names, rng.chisquare(8, n_assets))
    n_alarms = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for s in range(0, n_windows, batch):
        alarms, _ = bank.process(assets[s:s + batch], scores[s:s + batch])
        n_alarms += int(alarms.sum())
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    return {"method": method, "windows_per_s": n_windows / dt, "windows_per_cpu_s": n_windows / dc,
            "alarm_rate": n_alarms / n_windows, "seconds": dt}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--assets", type=int, default=100)
    ap.add_argument("--windows", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--q", type=float, default=1e-4)
    ap.add_argument("--max-peaks", type=int, default=500)
    ap.add_argument("--refit-every", type=int, default=1)
    a = ap.parse_args(argv)
    for method in ("spot", "dspot"):
        r = run(method, a.assets, a.windows, a.batch, q=a.q, max_peaks=a.max_peaks, refit_every=a.refit_every)
        print(f"{method:5s} assets={a.assets} batch={a.batch} max_peaks={a.max_peaks} refit_every={a.refit_every}: "
              f"{r['windows_per_s']:,.0f} windows/s wall, {r['windows_per_cpu_s']:,.0f} per CPU-second "
              f"(alarm rate {r['alarm_rate']:.2e}, {r['seconds']:.1f} s)")


if __name__ == "__main__":
    main()
