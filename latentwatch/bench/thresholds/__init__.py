"""`latentwatch bench thresholds`: what a GPD refit costs, and the false-alarm rate on real normal data.

Two parts, one run:

1. Speed of ``ThresholdBank.process`` on synthetic normal traffic: chi-square(8) scores (a squared z-distance over
   8 sensors), so about 1 - level of the windows are peaks and each peak (``refit_every=1``, the paper's rule)
   costs one Grimshaw fit. Per-CPU-second rates, since the cores are shared; compare the rows of one run.
2. False alarms on held-out normal windows of the real data sets (protocol in ``false_alarms.py``), for SPOT and
   DSPOT (the daemon's defaults, ``pipelines/defaults.py``), q in {1e-3, 1e-4}, refit_every in {1, 10}.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from pipelines import defaults
from pipelines.threshold.bank import ThresholdBank

DSPOT_DEFAULTS = {"depth": defaults.DEPTH}


def run_synthetic(method: str, n_assets: int, n_windows: int, batch: int, seed: int = 0, **params: object) -> dict:
    rng = np.random.default_rng(seed)
    bank = ThresholdBank(method, rng.chisquare(8, 20_000), **params)
    names = [f"asset-{i:03d}" for i in range(n_assets)]
    assets = [names[i] for i in rng.integers(0, n_assets, n_windows)]
    scores = rng.chisquare(8, n_windows)
    bank.process(names, rng.chisquare(8, n_assets))
    n_alarms = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for s in range(0, n_windows, batch):
        alarms, _ = bank.process(assets[s : s + batch], scores[s : s + batch])
        n_alarms += int(alarms.sum())
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    return {
        "method": method,
        "windows_per_s": n_windows / dt,
        "windows_per_cpu_s": n_windows / dc,
        "us_per_window": dc / n_windows * 1e6,
        "alarm_rate": n_alarms / n_windows,
        "seconds": dt,
        **params,
    }


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--datasets",
        default="skab,mi-f,mi-v,eopt,nasa",
        help="real data sets for the false-alarm part (default: skab,mi-f,mi-v,eopt,nasa; '' skips it)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--assets", type=int, default=100, help="assets in the synthetic speed part")
    p.add_argument("--windows", type=int, default=200_000, help="windows in the synthetic speed part")
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--refit-every", default="1,10", help="refit policies to compare (default 1,10)")
    p.add_argument(
        "--skab-split",
        default="time",
        choices=("time", "seeded"),
        help="SKAB calibration split: time (each run's last 20 %%, as `latentwatch train`) or seeded",
    )
    p.add_argument("--data-dir", help="shared data folder (default: $LATENTWATCH_DATA_DIR or ../shared/data)")
    p.add_argument("--out", default="out/bench-thresholds.json", metavar="FILE")


def run(args: argparse.Namespace) -> int:
    from latentwatch.bench.thresholds.false_alarms import load_stream, replay_thresholds

    refits = [int(r) for r in args.refit_every.split(",")]
    result: dict = {
        "command": "latentwatch bench thresholds",
        "args": vars(args) | {"func": None},
        "speed": [],
        "false_alarms": [],
        "fits": {},
    }
    print(f"speed: {args.windows} synthetic windows, {args.assets} assets, batches of {args.batch}, q=1e-4")
    for method in ("spot", "dspot"):
        extra = DSPOT_DEFAULTS if method == "dspot" else {}
        for rf in refits:
            r = run_synthetic(method, args.assets, args.windows, args.batch, q=1e-4, refit_every=rf, **extra)
            result["speed"].append(r)
            print(
                f"  {method:5s} refit_every={rf:<3d} {r['us_per_window']:6.2f} us CPU/window "
                f"({r['windows_per_cpu_s']:,.0f} per CPU s), alarm rate {r['alarm_rate']:.1e}"
            )
    for name in [d for d in args.datasets.split(",") if d]:
        stream = load_stream(name, args.data_dir, seed=args.seed, skab_split=args.skab_split)
        result["fits"][name] = {
            "calibration": len(stream.calibration),
            "windows": len(stream.scores),
            "assets": len(set(stream.assets)),
            "fit_seconds": round(stream.fit_seconds, 1),
        }
        print(
            f"false alarms on {name}: {len(stream.scores)} held-out normal windows, {len(set(stream.assets))} "
            f"asset(s), {len(stream.calibration)} calibration scores (fit {stream.fit_seconds:.0f} s)"
        )
        for method in ("spot", "dspot"):
            extra = DSPOT_DEFAULTS if method == "dspot" else {}
            for q in (1e-3, 1e-4):
                for rf in refits:
                    try:
                        r = replay_thresholds(stream, method, q, rf, batch=args.batch, **extra)
                    except ValueError as e:  # too few calibration scores for this level (NASA: 472 < 500)
                        result["fits"][name]["skipped"] = str(e)
                        print(f"  {method:5s} q={q:.0e} refit_every={rf}: skipped: {e}")
                        continue
                    result["false_alarms"].append(r)
                    print(
                        f"  {method:5s} q={q:.0e} refit_every={rf:<3d} {r['alarms']:6d} alarms  rate "
                        f"{r['rate']:.2e} = {r['rate_over_q']:7.2f} q  (95% {r['ci95'][0]:.1e}-"
                        f"{r['ci95'][1]:.1e})  {r['us_per_window']:.2f} us/window  calibration shape "
                        f"{r['calibration_shape']:.3f} (unbounded {r['calibration_shape_unbounded']:.3f}), "
                        f"guard trips {r['guard_trips']}, held {r['held_at_end']}"
                    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"JSON: {out}")
    return 0
