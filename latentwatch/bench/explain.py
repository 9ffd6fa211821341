"""`latentwatch bench explain`: do alerts name the right sensor? Faults injected into one SKAB sensor at a time.

Protocol (real normal data, a stated injection, no labels used to choose anything):
- SKAB's anomaly-free run; its first ``train_frac`` of rows train the model (``fit_artifact``, windows of
  ``window`` rows, summary mode unless ``mode`` says otherwise; feature names recorded, so sensors are SKAB's 8
  channels). No per-asset references: every window is scored and explained against the global one, as the daemon
  does for an artifact without them.
- The remaining rows are cut into segments of ``segment`` rows. In each segment one sensor c gets a fault from row
  ``onset`` to the segment's end, with sigma_c = that sensor's standard deviation over the training rows:
  ``step`` (+ ``size`` x sigma_c), ``drift`` (a ramp from 0 to ``size`` x sigma_c over the fault), ``stuck`` (held
  at its value at the onset).
- Each segment's windows are scored by ``OnlineModel.score``, with and without the fault; a window is alarmed when
  its score passes the ``quantile`` of the artifact's calibration scores (held-out normal windows). Counted: the
  windows ending inside the fault that the fault alarmed (alarmed with it, not alarmed without it: the clean
  test rows already alarm on their own, about 8 % at q 0.99, and no explanation can pin those on the injected
  sensor). Hit: the faulty sensor is the first of the window's sensors (``ScoredBatch.sensors``).
Printed: the hit rate per fault kind (pooled over sensors and segments), per sensor, and the counts; beside it the
rate over every alarmed window in the fault, the ones alarmed anyway included; then the scoring rate over the test
windows, alone and with the sensors read (``scoring_rates``). ``--mode flatten`` runs it all on flatten windows.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

KINDS = ("step", "drift", "stuck")


@dataclass(frozen=True)
class ExplainBench:
    train_frac: float = 0.6
    window: int = 10
    segment: int = 300
    onset: int = 100
    size: float = 4.0
    quantile: float = 0.99
    epochs: int = 60
    seed: int = 0
    mode: str = "summary"  # window_vectors' mode: "summary" (5 stats per sensor) or "flatten" (every row)
    batch: int = 500  # windows per OnlineModel.score call in the rate measurement
    # the model's scorer and input norm; None: TrainSpec's defaults (rank-mean, "range"). "ares" with "scaler" is
    # the papers' setup, which the explanation's repair point (the scaler's centre, 0) was designed for
    scorer: str | None = None
    input_norm: str | None = None


def inject(values: np.ndarray, sensor: int, kind: str, onset: int, size: float, sigma: float) -> np.ndarray:
    """A copy of values [n, c] with the fault in column ``sensor`` from row ``onset`` on."""
    out = np.array(values, dtype=np.float64)
    n = len(out) - onset
    if kind == "step":
        out[onset:, sensor] += size * sigma
    elif kind == "drift":
        out[onset:, sensor] += np.linspace(0.0, size * sigma, n)
    elif kind == "stuck":
        out[onset:, sensor] = out[onset, sensor]
    else:
        raise ValueError(f"unknown fault kind {kind!r}; choose from {KINDS}")
    return out


def train_model(values: np.ndarray, cfg: ExplainBench, out_root: Path):
    from pipelines.data.skab import SENSOR_COLUMNS
    from pipelines.data.windowing import window_feature_names, window_vectors
    from pipelines.fit import TrainSpec, fit_artifact
    from pipelines.online import OnlineModel

    X = window_vectors(values, cfg.window, 1, cfg.mode)
    chosen = {k: v for k, v in (("scorer", cfg.scorer), ("input_norm", cfg.input_norm)) if v is not None}
    spec = TrainSpec(
        hidden=(32, 16), latent=6, epochs=cfg.epochs, patience=10, n_trees=10, k=10, device="cpu", **chosen
    )
    names = list(window_feature_names(SENSOR_COLUMNS, cfg.window, cfg.mode))
    path = fit_artifact(X, out_root, spec, seed=cfg.seed, progress=False, extra={"feature_names": names})
    return OnlineModel.load(path)


def hit_rates(
    cfg: ExplainBench = ExplainBench(),
    data_dir: str | Path | None = None,
    sensors: tuple[int, ...] | None = None,
    kinds: tuple[str, ...] = KINDS,
) -> dict[str, Any]:
    from pipelines.data import load_skab_anomaly_free
    from pipelines.data.windowing import window_end_index, window_vectors

    values = np.asarray(load_skab_anomaly_free(data_dir).values, dtype=np.float64)
    n_train = int(len(values) * cfg.train_frac)
    sigma = values[:n_train].std(axis=0)
    with tempfile.TemporaryDirectory() as tmp:
        model = train_model(values[:n_train], cfg, Path(tmp))
    limit = float(np.quantile(model.calibration, cfg.quantile))
    test = values[n_train:]
    starts = range(0, len(test) - cfg.segment + 1, cfg.segment)
    sensors = tuple(range(values.shape[1])) if sensors is None else sensors
    ends = window_end_index(cfg.segment, cfg.window, 1)
    clean_scores = [
        model.score(window_vectors(test[s : s + cfg.segment], cfg.window, 1, cfg.mode)).score for s in starts
    ]
    per: dict[str, dict[str, list[int]]] = {k: {} for k in kinds}
    for kind in kinds:
        for c in sensors:
            counts = np.zeros(4, dtype=np.int64)  # hits, alarmed by the fault, hits, alarmed at all
            for s, clean in zip(starts, clean_scores, strict=False):
                seg = inject(test[s : s + cfg.segment], c, kind, cfg.onset, cfg.size, sigma[c])
                out = model.score(window_vectors(seg, cfg.window, 1, cfg.mode))
                every = (out.score > limit) & (ends >= cfg.onset)
                for j, hot in enumerate((every & (clean <= limit), every)):
                    counts[2 * j : 2 * j + 2] += int((out.sensors[hot, 0] == c).sum()), int(hot.sum())
            per[kind][model.sensor_names[c]] = counts.tolist()
    rates = scoring_rates(model, window_vectors(test, cfg.window, 1, cfg.mode), cfg.batch)
    model.close()
    result: dict[str, Any] = {
        "protocol": asdict(cfg),
        "threshold": limit,
        "segments": len(starts),
        "windows_per_second": rates,
        "kinds": {},
    }
    for kind, by in per.items():
        h, a, h_all, a_all = np.sum(list(by.values()), axis=0).tolist()
        result["kinds"][kind] = {
            "hit_rate": h / a if a else None,
            "alarmed": a,
            "hit_rate_all_alarmed": h_all / a_all if a_all else None,
            "alarmed_all": a_all,
            "per_sensor": {s: {"hit_rate": v[0] / v[1] if v[1] else None, "alarmed": v[1]} for s, v in by.items()},
        }
    return result


def scoring_rates(model: Any, X: np.ndarray, batch: int, rounds: int = 3) -> dict[str, float]:
    """Windows per second of ``OnlineModel.score`` over X in batches of ``batch``, alone and with every batch's
    sensors read (as if each batch held an alert), over ``rounds`` passes after a warm-up one. Each batch is timed
    both ways back to back, so load from other processes falls on both alike."""
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    spent = {"score": 0.0, "score_and_sensors": 0.0}
    for r in range(rounds + 1):
        for s in range(0, len(X), batch):
            for name in spent:
                t0 = time.perf_counter()
                out = model.score(X[s : s + batch])
                if name != "score":
                    _ = out.sensors
                if r:
                    spent[name] += time.perf_counter() - t0
    return {k: round(rounds * len(X) / v) for k, v in spent.items()}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help="shared data folder (default: $LATENTWATCH_DATA_DIR or ../shared/data)")
    for f, v in asdict(ExplainBench()).items():
        p.add_argument(f"--{f.replace('_', '-')}", type=type(v), default=v)
    p.add_argument("--json", action="store_true", help="print the result as one JSON document")


def run(args: argparse.Namespace) -> int:
    import torch

    torch.set_num_threads(1)
    cfg = ExplainBench(**{f: getattr(args, f) for f in asdict(ExplainBench())})
    t0 = time.perf_counter()
    res = hit_rates(cfg, args.data_dir)
    res["seconds"] = round(time.perf_counter() - t0, 1)
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    print(
        f"explain: faults of {cfg.size:g} sigma in one SKAB sensor from row {cfg.onset} of {res['segments']} "
        f"segments of {cfg.segment} rows; alarmed = score > q{cfg.quantile:g} of calibration "
        f"({res['threshold']:.3g})"
    )
    for kind, r in res["kinds"].items():
        rate = "n/a" if r["hit_rate"] is None else f"{100 * r['hit_rate']:.1f} %"
        rate_all = "n/a" if r["hit_rate_all_alarmed"] is None else f"{100 * r['hit_rate_all_alarmed']:.1f} %"
        print(
            f"  {kind:<6} faulty sensor ranked first in {rate} of {r['alarmed']} windows the fault alarmed "
            f"({rate_all} of all {r['alarmed_all']} alarmed in the fault)"
        )
        for s, v in r["per_sensor"].items():
            sr = "n/a" if v["hit_rate"] is None else f"{100 * v['hit_rate']:.0f} %"
            print(f"      {s:<22} {sr:>6} of {v['alarmed']}")
    wps = res["windows_per_second"]
    print(
        f"  OnlineModel.score, batches of {cfg.batch}, one torch thread: {wps['score']:,} windows/s alone, "
        f"{wps['score_and_sensors']:,} with the sensors read ({wps['score_and_sensors'] / wps['score']:.2f}x)"
    )
    print(f"  ({res['seconds']} s)")
    return 0
