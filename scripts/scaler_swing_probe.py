"""Scaler-swing probe: which score forms move less between the two input scalers (min-max vs z-score with a floor).

For one data set, setting and seed, on `latentwatch evaluate`'s split and spec (its per-data-set overrides, 350
epochs), this trains one model per scaler and prints, per score form, the AUROC x100 under min-max, under z-score
and the swing (the mean over the setting's classes). Forms: the registered scorers below, and forms that are not
scorers: recon-std (each feature's residual divided by its robust scale on validation normals, then the mean
square), recon-absstd (mean absolute), recon-std-c (residuals centred on their validation median first) and rank
sums of recon-std with latent LOF, the mean 20-NN latent distance or NLN (empirical-CDF ranks on validation normals).
A probe for the next scorer, not an evaluation (one seed; README, "The default scorer"):

  PYTHONPATH=. .venv/bin/python scripts/scaler_swing_probe.py mi-f labels 0
  PYTHONPATH=. .venv/bin/python scripts/scaler_swing_probe.py snsr multimodal 0
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from pipelines.batch_encoding import encode_batch
from pipelines.data import load_dataset
from pipelines.evaluate.protocol import VAL_FRACTION, arrangements, make_split
from pipelines.evaluate.runner import EvalConfig
from pipelines.fit import fit_bundle
from pipelines.scorers import make_scorer
from pipelines.scorers.neighbourhood import lof
from pipelines.scorers.normalisation import ecdf_map, ecdf_quantiles, robust_scale

SCORERS = ("recon", "ares", "ares-cal", "nln", "lof-latent", "knn-latent", "ares-knn", "rank-mean")


def _rank(val: np.ndarray, test: np.ndarray) -> np.ndarray:
    return ecdf_map(test, ecdf_quantiles(val))


def forms(ev, et, ref, decode) -> dict[str, np.ndarray]:
    rv, rt = ev.x - ev.xhat, et.x - et.xhat
    s = np.array([robust_scale(rv[:, j])[0] for j in range(rv.shape[1])])
    sv, st = ((rv / s) ** 2).mean(1), ((rt / s) ** 2).mean(1)
    med = np.median(rv, 0)
    out = {"recon-std": st, "recon-absstd": (np.abs(rt) / s).mean(1), "recon-std-c": (((rt - med) / s) ** 2).mean(1)}
    for name in SCORERS:
        sc = make_scorer(name)
        sc.fit(ev, ref, decode)
        out[name] = sc.score(et, ref, decode).score
    nln = make_scorer("nln").fit(ev, ref, decode)
    parts = {
        "lof": (lof(ev, ref), lof(et, ref)),
        "knn": (ev.nbr_dist[:, :20].mean(1), et.nbr_dist[:, :20].mean(1)),
        "nln": (nln.score(ev, ref, decode).score, out["nln"]),
    }
    for name, (pv, pt) in parts.items():
        out[f"rank(recon-std,{name})"] = _rank(sv, st) + _rank(pv, pt)
    return out


def main(dataset: str, setting: str, seed: int) -> None:
    torch.set_num_threads(1)
    ds = load_dataset(dataset)
    res: dict[str, dict[str, list[float]]] = {}
    for arr in arrangements(dataset, ds.kind, ds.class_names, (setting,), None):
        for scaler in ("minmax", "zscore"):
            t = time.perf_counter()
            split = make_split(ds.y, arr, seed, VAL_FRACTION)
            spec = EvalConfig(datasets=[dataset], scaler=scaler).spec_for(dataset)
            b = fit_bundle(ds.X[split.train], ds.X[split.val], spec, seed=seed, progress=False)
            ev = encode_batch(b.model, b.reference, ds.X[split.val], 20)
            et = encode_batch(b.model, b.reference, ds.X[split.test], 20)
            for name, v in forms(ev, et, b.reference, b.model.decode).items():
                auc = 100 * roc_auc_score(split.y_test, np.nan_to_num(v, posinf=1e300))
                res.setdefault(name, {}).setdefault(scaler, []).append(auc)
            print(f"{arr.dataset} {arr.setting} {arr.cls} {scaler}: {time.perf_counter() - t:.0f} s", file=sys.stderr)
    print(f"{'form':22s} {'minmax':>6s} {'zscore':>6s} {'swing':>6s}")
    for name, d in res.items():
        a, z = float(np.mean(d["minmax"])), float(np.mean(d["zscore"]))
        print(f"{name:22s} {a:6.2f} {z:6.2f} {abs(a - z):6.2f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
