"""`latentwatch bench assets`: per-asset references at fleet scale next to the global-only model, in one run.

Set-up (stated, seeded): a model trained on SKAB's normal windows (summary windows of 10 rows, 40 features, a few
epochs: the model's quality is not what is measured). Each of ``--assets`` assets gets ``--windows`` normal windows:
a contiguous slice of the SKAB normal windows at a random start, shifted by its own offset (a normal draw of
``--shift`` x each feature's std), so every asset has a normal of its own. The first ``--full-build`` assets are
built as ``latentwatch assets add`` builds them (``build_asset_normal``, 5-fold cross-fitted calibration) to time
that path; the rest get the same reference (``build_reference``) with their in-reference scores as calibration,
which has the same size and layout and keeps the run short. All are published as one version (``publish_assets``).

Measured, each against the global-only model (the same artifact without its per-asset part) in the same process:
- artifact size on disk, and the time to load (verify + read) each model; the per-asset model's shards are read
  lazily, so "read all shards" is timed on its own;
- resident memory (RSS) after loading and scoring every asset once (every reference materialised);
- scoring rate of ``OnlineModel.score`` on batches of ``--batch`` windows: "mixed" (every window from another
  random asset: the worst case, one group per window) and "grouped" (``--per-asset`` windows from each asset).
  Global-only and per-asset scoring alternate batch by batch; rates are medians over rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).iterdir() if p.is_file()) / 2**20


def probe(path: str, queries: str, mode: str, batch: int) -> dict[str, float]:
    """In a fresh process: resident memory of loading the model and scoring one window of every asset."""
    import torch

    from pipelines.online import OnlineModel

    torch.set_num_threads(1)
    Q = np.load(queries)
    before = rss_mb()
    model = OnlineModel.load(path)
    model.warm_up()
    names = [f"asset-{a:06d}" for a in range(len(Q))]
    for s in range(0, len(Q), batch):
        model.score(Q[s : s + batch], assets=names[s : s + batch] if mode == "assets" else None)
    return {"model_mb": round(rss_mb() - before, 1), "process_mb": round(rss_mb(), 1)}


def probe_process(path: Path, queries: Path, mode: str, batch: int) -> dict[str, float]:
    import subprocess
    import sys

    code = (
        "import json, sys; from latentwatch.bench.assets import probe; "
        f"print(json.dumps(probe({str(path)!r}, {str(queries)!r}, {mode!r}, {batch})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def asset_windows(X: np.ndarray, n_assets: int, n: int, shift: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(start of each asset's slice [A], offset of each asset [A, d]) into the normal windows X."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(X) - n, size=n_assets)
    offsets = rng.normal(size=(n_assets, X.shape[1])) * shift * X.std(axis=0)
    return starts, offsets


def build(model, X: np.ndarray, starts, offsets, n: int, full: int) -> tuple[dict, float, float]:
    from pipelines.reference.assets import AssetNormal, build_asset_normal, score_against
    from pipelines.reference.build import build_reference

    normals, t_full, t_fast = {}, 0.0, 0.0
    kw = {"k": model.reference.k, "groups": model.groups}
    for a, (s, off) in enumerate(zip(starts, offsets, strict=True)):
        W = X[s : s + n] + off
        t0 = time.perf_counter()
        if a < full:
            normals[f"asset-{a:06d}"] = build_asset_normal(model.model, W, model.scorer, **kw)
            t_full += time.perf_counter() - t0
        else:
            ref = build_reference(model.model, model.model.scaler.transform(W), n_trees=0, **kw)
            normals[f"asset-{a:06d}"] = AssetNormal(ref, score_against(model.model, ref, model.scorer, W))
            ref.index.close()
            t_fast += time.perf_counter() - t0
    return normals, t_full / max(full, 1), t_fast / max(len(starts) - full, 1)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from pipelines.artifact.assets import publish_assets
    from pipelines.fit import TrainSpec, fit_artifact
    from pipelines.online import OnlineModel
    from pipelines.sources import WindowSpec, normal_windows

    X = normal_windows("skab", args.data_dir, WindowSpec())
    tmp = Path(tempfile.mkdtemp(prefix="lw-bench-assets-"))
    spec = TrainSpec(hidden=(32, 16), latent=6, epochs=args.epochs, patience=3, n_trees=10, k=10, device="cpu")
    from pipelines.data.skab import SENSOR_COLUMNS
    from pipelines.data.windowing import window_feature_names

    names = list(window_feature_names(SENSOR_COLUMNS, 10, "summary"))
    base = fit_artifact(X, tmp, spec, seed=args.seed, progress=False, extra={"feature_names": names})
    trained = OnlineModel.load(base)
    starts, offsets = asset_windows(X, args.assets, args.windows, args.shift, args.seed)
    t0 = time.perf_counter()
    normals, per_full, per_fast = build(trained, X, starts, offsets, args.windows, args.full_build)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    with_assets = publish_assets(tmp, base, normals, shards=args.shards)
    t_publish = time.perf_counter() - t0
    trained.close()
    del normals

    rng = np.random.default_rng(args.seed + 1)
    names = np.array([f"asset-{a:06d}" for a in range(args.assets)])

    def queries(ids: np.ndarray) -> np.ndarray:
        pos = starts[ids] + rng.integers(0, args.windows, size=len(ids))
        return X[pos] + offsets[ids] + rng.normal(size=(len(ids), X.shape[1])) * 0.05 * X.std(axis=0)

    np.save(tmp / "probe.npy", queries(np.arange(args.assets)))
    memory = {
        mode: probe_process(path, tmp / "probe.npy", mode, args.batch)
        for mode, path in (("global", base), ("assets", with_assets))
    }

    t0 = time.perf_counter()
    glob = OnlineModel.load(base)
    t_load_global = time.perf_counter() - t0
    glob.warm_up()
    t0 = time.perf_counter()
    fleet = OnlineModel.load(with_assets)
    t_load_fleet = time.perf_counter() - t0
    t0 = time.perf_counter()
    fleet.assets.preload()
    t_shards = time.perf_counter() - t0
    t0 = time.perf_counter()
    for s in range(0, args.assets, args.batch):  # every asset once: every reference materialised
        ids = np.arange(s, min(s + args.batch, args.assets))
        fleet.score(queries(ids), assets=names[ids].tolist())
    t_first = time.perf_counter() - t0

    rates: dict[str, dict[str, list[float]]] = {
        "mixed": {"global": [], "assets": []},
        "grouped": {"global": [], "assets": []},
    }
    for _ in range(args.rounds):
        for shape in rates:
            if shape == "mixed":
                ids = rng.integers(0, args.assets, size=args.batch)
            else:
                ids = np.repeat(rng.integers(0, args.assets, size=args.batch // args.per_asset), args.per_asset)
            q, who = queries(ids), names[ids].tolist()
            for label, call in (
                ("global", lambda q=q: glob.score(q)),
                ("assets", lambda q=q, who=who: fleet.score(q, assets=who)),
            ):
                t0 = time.perf_counter()
                call()
                rates[shape][label].append(len(q) / (time.perf_counter() - t0))
    items = sum(fleet.assets.reference(k).size for k in fleet.assets.keys)
    out = {
        "assets": args.assets,
        "windows_per_asset": args.windows,
        "shards": args.shards,
        "dim": int(X.shape[1]),
        "reference_items_per_asset": round(items / args.assets, 1),
        "global_reference_items": glob.reference.size,
        "build_ms_per_asset": {
            "assets_add_path": round(1000 * per_full, 2),
            "reference_only": round(1000 * per_fast, 2),
        },
        "build_s": round(t_build, 1),
        "publish_s": round(t_publish, 1),
        "disk_mb": {"global": round(dir_mb(base), 1), "with_assets": round(dir_mb(with_assets), 1)},
        "load_s": {
            "global": round(t_load_global, 3),
            "with_assets": round(t_load_fleet, 3),
            "read_all_shards": round(t_shards, 3),
            "first_score_every_asset": round(t_first, 2),
        },
        "rss_mb_after_scoring_every_asset": memory,
        "per_asset_kb": round(1024 * (memory["assets"]["model_mb"] - memory["global"]["model_mb"]) / args.assets, 1),
        "windows_per_s": {
            shape: {k: round(float(np.median(v)), 0) for k, v in r.items()} for shape, r in rates.items()
        },
    }
    out["ratio_assets_to_global"] = {
        shape: round(r["assets"] / r["global"], 3) for shape, r in out["windows_per_s"].items()
    }
    glob.close()
    fleet.close()
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    else:
        out["artifact_root"] = str(tmp)
    return out


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--assets", type=int, default=10_000)
    p.add_argument("--windows", type=int, default=500, help="normal windows per asset")
    p.add_argument("--shards", type=int, default=64)
    p.add_argument("--full-build", type=int, default=200, help="assets built by the `assets add` path (timed)")
    p.add_argument("--shift", type=float, default=0.5, help="each asset's offset, in feature stds")
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--per-asset", type=int, default=50, help="windows per asset in a 'grouped' batch")
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", help="shared data folder (default: $LATENTWATCH_DATA_DIR or ../shared/data)")
    p.add_argument("--keep", action="store_true", help="keep the artifacts (printed path)")


def run(args: argparse.Namespace) -> int:
    import torch

    torch.set_num_threads(1)
    print(json.dumps(measure(args), indent=2))
    return 0
