"""CANCE's lambda probe: how well conditioned the latent's covariance is for each covariance-loss weight.

The paper's rule (appendix A) is the smallest lambda that keeps the covariance of the training latents well
conditioned, since the noise Gaussian is fitted to it. For each data set (its "labels" arrangement, or a multi-class
set's first unimodal class), seed 0, on `latentwatch evaluate`'s split and spec (its per-data-set overrides, the
given epochs), this trains the cance variant at each lambda and prints the condition number of the training
latents' covariance and of the composite features' correlation matrix (the cnce/cance noise Gaussian's, scale-free:
the reconstruction features are orders of magnitude smaller than z), the best stage-1 epoch and the test AUROC
of the reconstruction error and of the cance score:

  PYTHONPATH=. .venv/bin/python scripts/cance_probe.py --datasets mi-v,eopt,nasa --lams 0,0.01,0.1,1,10 --epochs 50
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from pipelines.data.registry import load_dataset
from pipelines.evaluate.protocol import VAL_FRACTION, arrangements, make_split
from pipelines.evaluate.runner import EvalConfig
from pipelines.fit import fit_bundle


def probe(dataset: str, lam: float, epochs: int) -> dict[str, float]:
    ds = load_dataset(dataset)
    arr = arrangements(dataset, ds.kind, ds.class_names, ("unimodal",) if ds.kind == "multi" else None, 1)[0]
    split = make_split(ds.y, arr, 0, VAL_FRACTION)
    spec = EvalConfig(datasets=[dataset], epochs=epochs).spec_for(dataset)
    spec = replace(spec, variant="cance", variant_params={"lam": lam})
    t = time.perf_counter()
    b = fit_bundle(ds.X[split.train], ds.X[split.val], spec, seed=0, progress=False)
    seconds = time.perf_counter() - t
    Xs = b.model.scaler.transform(ds.X[split.train])
    z = b.model.encode_scaled(Xs)[0]
    chol = b.model.parts.head("cnce").chol.double()
    cov = chol @ chol.T
    sd = torch.sqrt(torch.diagonal(cov))
    Xt = b.model.scaler.transform(ds.X[split.test])
    zt, _, err = b.model.encode_scaled(Xt)
    extra = b.model.extra(Xt, zt)
    return {
        "cond_z": float(np.linalg.cond(np.cov(z, rowvar=False))),
        "cond_c": float(torch.linalg.cond(cov / torch.outer(sd, sd))),
        "best_epoch": float(b.metrics["best_epoch"]),
        "recon": 100 * roc_auc_score(split.y_test, err),
        "cance": 100 * roc_auc_score(split.y_test, -(extra["cance_logodds"] + extra["cance_lognoise"])),
        "seconds": seconds,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="mi-v,eopt,nasa")
    ap.add_argument("--lams", default="0,0.01,0.1,1")
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print("| data set | lambda | cond cov(z) | cond corr(c) | best epoch | CANCE Error | CANCE | train s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for dataset in a.datasets.split(","):
        for lam in (float(v) for v in a.lams.split(",")):
            r = probe(dataset, lam, a.epochs)
            print(
                f"| {dataset} | {lam:g} | {r['cond_z']:.3g} | {r['cond_c']:.3g} | {int(r['best_epoch'])} | "
                f"{r['recon']:.2f} | {r['cance']:.2f} | {r['seconds']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
