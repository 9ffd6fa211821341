"""The VAE measurements in README "VAE backbone" that `latentwatch evaluate` cannot run: the beta probe and the
scoring rate. Run from the repository root:

  PYTHONPATH=. .venv/bin/python scripts/vae_probe.py beta 0.1 0.01
  PYTHONPATH=. .venv/bin/python scripts/vae_probe.py rate
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace

import numpy as np

from pipelines.batch_encoding import encode_batch, neighbours_needed
from pipelines.data import load_dataset
from pipelines.evaluate.runner import EvalConfig, evaluate
from pipelines.evaluate.settings import DEFAULT_SPEC
from pipelines.fit import TrainSpec, fit_bundle, split_train_val
from pipelines.scorers import make_scorer


def beta_probe(betas: list[float]) -> None:
    """The vae variant at each beta on unimodal SNSR and STL and on NASA, the README's budget (50 epochs, seed 0)."""
    for beta in betas:
        t = time.time()
        cfg = EvalConfig(
            datasets=["snsr", "stl", "nasa"],
            seeds=[0],
            scorers=["ares", "nln", "vae-elbo", "vae-recon-prob"],
            baselines=[],
            spec=replace(DEFAULT_SPEC, variant="vae", variant_params={"beta": beta}),
            epochs=50,
            variants=["vae"],
            settings=["unimodal"],
        )
        out = evaluate(cfg, lambda name: load_dataset(name, None))
        for a in out["aggregates"]:
            print(f"beta {beta} {a['dataset']} {a['setting']} {a['method']} {100 * a['auroc_mean']:.2f}", flush=True)
        print(f"beta {beta}: {time.time() - t:.0f} s", flush=True)


def rate() -> None:
    """windows/s of encode + neighbour search + score, batches of 1000, one VAE model (SNSR class 0 normal)."""
    ds = load_dataset("snsr", None)
    X = ds.X[ds.y == 0]
    tr, va = split_train_val(len(X), 0.2, seed=0)
    b = fit_bundle(X[tr], X[va], TrainSpec(epochs=20, variant="vae"), seed=0, progress=False)
    Q = np.resize(ds.X, (1000, ds.X.shape[1]))
    for name in ["recon", "ares", "nln", "vae-elbo", "vae-recon-prob"]:
        s = make_scorer(name)
        enc = encode_batch(b.model, b.reference, X[va], neighbours_needed(b.reference, s))
        s.fit(enc, b.reference, b.model.decode)
        best = []
        for _ in range(3):
            t = time.perf_counter()
            for _ in range(10):
                enc = encode_batch(b.model, b.reference, Q, neighbours_needed(b.reference, s))
                s.score(enc, b.reference, b.model.decode)
            best.append(10000 / (time.perf_counter() - t))
        print(f"{name}: {max(best):.0f} windows/s (best of 3 x 10 batches of 1000)", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["beta"]:
        beta_probe([float(b) for b in sys.argv[2:]])
    elif sys.argv[1:2] == ["rate"]:
        rate()
    else:
        sys.exit(__doc__)
