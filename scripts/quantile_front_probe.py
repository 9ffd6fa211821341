"""Quantile front-end probe: does a per-feature quantile transform after the input scaler remove the scaler swing,
and at what cost?

The transform is fitted on the scaled training rows (101 knots per feature; the empirical CDF interpolated linearly
between them and extrapolated with the end segments' slopes), so an affine rescaling of a feature leaves its output
unchanged: z-score and min-max give the same inputs up to the clip. `latentwatch evaluate`'s split and spec, one
seed, a capped budget, no baselines; prints the AUROC x100 per data set, setting and scorer. A probe, not an
evaluation (README, "The default scorer"):

  PYTHONPATH=. .venv/bin/python scripts/quantile_front_probe.py minmax front     # with the front end
  PYTHONPATH=. .venv/bin/python scripts/quantile_front_probe.py zscore front
  PYTHONPATH=. .venv/bin/python scripts/quantile_front_probe.py minmax plain     # the scaler alone
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np
import torch

import pipelines.fit as fit_module
from pipelines.data import load_dataset
from pipelines.evaluate.runner import EvalConfig, evaluate
from pipelines.model.scaler import Scaler

DATASETS = ["mi-f", "mi-v", "eopt", "nasa", "snsr", "stl"]
SCORERS = ["recon", "ares", "nln", "lof-latent"]
EPOCHS = 60


class QuantileFront:
    """The fitted scaler, then each feature through its training rows' empirical CDF."""

    def __init__(self, base: Scaler, X: np.ndarray, knots: int = 101) -> None:
        self.base = base
        self.qs = np.linspace(0.0, 1.0, knots)
        self.knots = np.quantile(base.transform(X).astype(np.float64), self.qs, axis=0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)

    def transform(self, X: np.ndarray) -> np.ndarray:
        Z = self.base.transform(X).astype(np.float64)
        out = np.empty_like(Z)
        for j in range(Z.shape[1]):
            k = np.unique(self.knots[:, j])
            if len(k) < 2:
                out[:, j] = Z[:, j] - k[0]
                continue
            p = np.interp(k, self.knots[:, j], self.qs)
            y = np.interp(Z[:, j], k, p)
            lo, hi = Z[:, j] < k[0], Z[:, j] > k[-1]
            y[lo] = p[0] + (p[1] - p[0]) / (k[1] - k[0]) * (Z[lo, j] - k[0])
            y[hi] = p[-1] + (p[-1] - p[-2]) / (k[-1] - k[-2]) * (Z[hi, j] - k[-1])
            out[:, j] = y
        return out.astype(np.float32)


class _FrontScaler:
    @staticmethod
    def fit(X: np.ndarray, **kw: Any) -> QuantileFront:
        return QuantileFront(Scaler.fit(X, **kw), X)


def main(scaler: str, form: str) -> None:
    if form == "front":
        fit_module.Scaler = _FrontScaler  # type: ignore[misc,assignment]
    elif form != "plain":
        raise SystemExit(f"form must be 'front' or 'plain', got {form!r}")
    torch.set_num_threads(1)
    cfg = EvalConfig(datasets=DATASETS, seeds=[0], scorers=SCORERS, baselines=[], scaler=scaler, epochs=EPOCHS)
    t0 = time.time()
    rec = evaluate(cfg, lambda name: load_dataset(name, None))
    for a in rec["aggregates"]:
        print(a["dataset"], a["setting"], scaler, form, a["method"], f"{100 * a['auroc_mean']:.2f}")
    print(f"{time.time() - t0:.0f} s")


if __name__ == "__main__":
    main(*sys.argv[1:3])
