"""False alarms of SPOT/DSPOT on held-out normal windows of the real data sets, and what a refit costs.

SPOT promises an alarm rate near q on data like its calibration. Production breaks that in two ways: the
calibration scores come from validation windows the model was early-stopped on, and later data drifts. This
measures the rate that results, on windows the model never saw. Protocol, per data set:

* tabular sets (mi-f, mi-v, eopt, nasa): the normal rows in data order; the first ``fit_fraction`` are the
  production fit (``fit_bundle`` with ``TrainSpec`` defaults and the given seed: a seeded 80:20 train/validation
  split, ARES, calibration = the validation rows' scores in data order, as an artifact stores them); the rest is
  the stream, one asset.
* skab: the production fit on ``normal_windows("skab")`` (the anomaly-free run plus each run's first 400 rows;
  calibration by the seeded split or, ``skab_split="time"``, each run's last 20 % as ``latentwatch train`` does);
  the stream is, for each of the 34 runs (one asset each), its windows after row 400 and before its first
  anomalous window.

Every streamed window is normal, so every alarm is false. Each (method, q, refit_every) gets a fresh
``ThresholdBank`` from the same calibration and sees the same scores in order. The interval is the exact (Garwood)
95% Poisson interval of the alarm count, divided by the window count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import chi2

from pipelines.threshold.bank import ThresholdBank
from pipelines.threshold.gpd import grimshaw

TABULAR_SETS = ("mi-f", "mi-v", "eopt", "nasa")
SKAB_TRAIN_ROWS = 400


@dataclass(frozen=True)
class Stream:
    """Calibration scores and the held-out normal stream: scores in arrival order with their assets."""

    name: str
    calibration: np.ndarray
    assets: list[str]
    scores: np.ndarray
    fit_seconds: float


def poisson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    a = 1.0 - level
    lo = 0.0 if k == 0 else chi2.ppf(a / 2, 2 * k) / 2
    hi = chi2.ppf(1 - a / 2, 2 * (k + 1)) / 2
    return lo / n, hi / n


def _fit_and_score(
    X_fit: np.ndarray, held_out: list[np.ndarray], seed: int, runs: list[int] | None = None
) -> tuple[np.ndarray, list, float]:
    """``runs``: lengths of the time-ordered runs X_fit stacks, for the time-ordered split (``train`` does the same
    for SKAB, gap window - 1 = 9); None: the seeded split."""
    from pipelines.batch_encoding import encode_batch, neighbours_needed
    from pipelines.fit import TrainSpec, calibrate, fit_bundle, split_time_ordered, split_train_val
    from pipelines.scorers import make_scorer

    t0 = time.perf_counter()
    spec = TrainSpec()
    if runs is None:
        tr, va = split_train_val(len(X_fit), spec.val_fraction, seed)
    else:
        tr, va = split_time_ordered(runs, spec.val_fraction, gap=9)
    bundle = fit_bundle(X_fit[tr], X_fit[va], spec, seed=seed, progress=False)
    scorer = make_scorer(spec.scorer, **spec.scorer_params)
    cal = calibrate(bundle, scorer, X_fit[va])
    k = neighbours_needed(bundle.reference, scorer)
    scores = [
        scorer.score(encode_batch(bundle.model, bundle.reference, X, k), bundle.reference, bundle.model.decode).score
        for X in held_out
    ]
    return np.asarray(cal, dtype=np.float64), scores, time.perf_counter() - t0


def load_stream(
    name: str, data_dir: Any = None, seed: int = 0, fit_fraction: float = 0.6, skab_split: str = "seeded"
) -> Stream:
    """``skab_split``: "time" calibrates SKAB on each normal run's last 20 % as ``latentwatch train`` now does;
    "seeded" is the seeded split of the 2026-11-26 table."""
    from pipelines.sources import normal_window_parts, streams

    if name == "skab":
        fit_parts = normal_window_parts("skab", data_dir)
        X_fit = np.vstack(fit_parts)
        runs = [len(p) for p in fit_parts] if skab_split == "time" else None
        parts, assets = [], []
        for s in streams("skab", data_dir):
            first_anomaly = np.flatnonzero(s.y == 1)
            stop = int(first_anomaly[0]) if len(first_anomaly) else len(s.y)
            start = SKAB_TRAIN_ROWS  # window i ends at row i + length - 1 >= 400: none overlaps the fit span
            if stop > start:
                parts.append(s.X[start:stop])
                assets.append(s.asset)
        cal, scores, secs = _fit_and_score(X_fit, parts, seed, runs)
        return Stream(
            name,
            cal,
            [a for a, sc in zip(assets, scores, strict=True) for _ in range(len(sc))],
            np.concatenate(scores),
            secs,
        )
    if name not in TABULAR_SETS:
        raise ValueError(f"unknown data set {name!r}; choose from {[*TABULAR_SETS, 'skab']}")
    from pipelines.sources import normal_windows

    X = normal_windows(name, data_dir)
    cut = int(len(X) * fit_fraction)
    cal, scores, secs = _fit_and_score(X[:cut], [X[cut:]], seed)
    return Stream(name, cal, [name] * len(scores[0]), scores[0], secs)


def replay_thresholds(
    stream: Stream, method: str, q: float, refit_every: int, level: float = 0.98, batch: int = 1000, **params: Any
) -> dict[str, Any]:
    """Stream the scores through a fresh bank in batches of ``batch``: alarms, rate, interval, CPU per window."""
    bank = ThresholdBank(method, stream.calibration, q=q, level=level, refit_every=refit_every, **params)
    n_alarms = 0
    c0 = time.process_time()
    for s in range(0, len(stream.scores), batch):
        alarms, _ = bank.process(stream.assets[s : s + batch], stream.scores[s : s + batch])
        n_alarms += int(alarms.sum())
    cpu = time.process_time() - c0
    n = len(stream.scores)
    lo, hi = poisson_interval(n_alarms, n)
    trips = [kind for _, kind, _ in bank.take_guard_trips()]
    return {
        "data_set": stream.name,
        "method": method,
        "q": q,
        "refit_every": refit_every,
        "windows": n,
        "alarms": n_alarms,
        "rate": n_alarms / n,
        "rate_over_q": n_alarms / n / q,
        "ci95": [lo, hi],
        "us_per_window": cpu / n * 1e6,
        "calibration_shape": bank.calibration_shape,
        "calibration_shape_unbounded": grimshaw(bank.calibration_peaks)[0],
        "guard_trips": {k: trips.count(k) for k in ("peak_rate", "shape")},
        "held_at_end": len(bank.guarded()),
    }
