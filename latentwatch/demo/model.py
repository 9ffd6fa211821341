"""The SKAB artifact the demo's daemon loads: the config's current one, or one trained now.

The deployment shape (issue 10, 1 b): one model trained on SKAB's anomaly-free run only, and each labelled run's own
reference and thresholds built from the windows of its first 400 rows (``latentwatch assets add``); the demo then
streams the rest of every run."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from latentwatch.demo import DemoError, now, say

DEFAULT_EPOCHS = 30
ANOMALY_FREE = "anomaly-free"


def ensure_artifact(cfg: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The artifact the daemon will load (training one when needed); returns what the summary says about it."""
    from daemon.replay import read_manifest

    if cfg.artifact.path is not None:
        manifest = read_manifest(cfg.artifact.path)
        if manifest.get("source") != "skab":
            raise DemoError(f"artifact.path {cfg.artifact.path} holds a {manifest.get('source')} model; the demo "
                            "replays SKAB: use a config that follows an artifact root")
        if args.retrain:
            raise DemoError("--retrain with a pinned artifact.path: the daemon would not load the new model")
        return {"version": manifest["version"], "path": str(cfg.artifact.path), "trained_now": False,
                "source": "skab", "window": manifest.get("window"), "dim": manifest.get("dim")}
    root = Path(cfg.artifact.root)
    reason = "--retrain" if args.retrain else None
    if reason is None:
        try:
            manifest = read_manifest(root)
        except Exception:
            reason = f"no current artifact under {root}"
        else:
            if manifest.get("source") != "skab":
                reason = f"the current artifact under {root} is a {manifest.get('source')} model"
            elif manifest.get("training") != ANOMALY_FREE or not manifest.get("assets"):
                reason = (f"the current artifact under {root} is not the deployment shape (a model of the "
                          "anomaly-free run with each run's own normal)")
            else:
                from pipelines.artifact.store import resolve_current

                return {"version": manifest["version"], "path": str(resolve_current(root)), "trained_now": False,
                        "source": "skab", "window": manifest.get("window"), "dim": manifest.get("dim"),
                        "asset_normals": manifest["assets"]["keys"]}
    return train_artifact(root, args, reason)


def train_artifact(root: Path, args: argparse.Namespace, reason: str) -> dict[str, Any]:
    import torch

    from latentwatch.commands.train import feature_names
    from latentwatch.demo.skab_scores import FIRST_ROWS
    from pipelines.artifact.assets import publish_assets
    from pipelines.data import load_skab_anomaly_free
    from pipelines.data.windowing import window_vectors
    from pipelines.evaluate.skab.settings import SkabSettings
    from pipelines.sources import WindowSpec
    from pipelines.train import TrainSpec, fit_artifact

    torch.set_num_threads(1)  # a small MLP: one thread is as fast and does not fight the broker for the cores
    t0, c0 = now(), time.process_time()
    s = SkabSettings()  # the SKAB evaluation's settings (chosen on valve1 only, docs/evaluation.md)
    window = WindowSpec(s.length, 1, s.mode)
    X = window_vectors(load_skab_anomaly_free(args.data_dir).values, window.length, window.stride, window.mode)
    spec = TrainSpec(hidden=tuple(s.hidden), latent=s.latent, epochs=args.epochs, scorer=s.scorer, k=s.k,
                     patience=s.patience, batch_size=s.batch_size, scaler=s.scaler)
    say(f"model: {reason}; training a SKAB artifact into {root}: {len(X)} windows of the anomaly-free run x "
        f"{X.shape[1]} features, "
        f"{spec.epochs} epochs, hidden {list(spec.hidden)}, latent {spec.latent}, scorer {spec.scorer}, 1 torch thread")
    base = fit_artifact(X, root, spec, seed=args.seed, progress=False,
                        extra={"source": "skab", "window": window.to_dict(), "normal_class": 0,
                               "training": ANOMALY_FREE,
                               "feature_names": feature_names("skab", window, args.data_dir)})
    heads = asset_normals(base, s, window, args.data_dir)
    path = publish_assets(root, base, heads, fields={"asset_normals": {
        "source": "skab", "first_rows": FIRST_ROWS, "own_scaler": "the SKAB evaluation's (slow channels guarded)"}})
    say(f"model: each of the {len(heads)} runs' own reference and thresholds from its windows ending within its "
        f"first {FIRST_ROWS} rows ({sum(len(h.calibration) for h in heads.values())} windows)")
    manifest = json.loads((path / "manifest.json").read_text())
    wall, cpu = now() - t0, time.process_time() - c0
    say(f"model: trained {manifest['version']} in {wall:.0f} s wall, {cpu:.0f} s CPU "
        f"(best epoch {manifest['metrics']['best_epoch']}, val loss {manifest['metrics']['best_val_loss']:.4g})")
    return {"version": manifest["version"], "path": str(path), "trained_now": True, "source": "skab",
            "window": manifest.get("window"), "dim": manifest.get("dim"), "reason": reason, "epochs": spec.epochs,
            "asset_normals": manifest["assets"]["keys"],
            "train_wall_s": round(wall, 1), "train_cpu_s": round(cpu, 1), "metrics": manifest["metrics"]}


def asset_normals(base: Path, s: Any, window: Any, data_dir: str | None) -> dict[str, Any]:
    """Each labelled run's own normal from the windows of its first 400 rows, read through its own input scaler:
    the SKAB evaluation's (``pipelines.evaluate.skab.models``: fitted on those windows, the level features of
    channels that are slow through those rows guarded to read ~0)."""
    from latentwatch.demo.skab_scores import FIRST_ROWS
    from pipelines.data import load_skab_runs
    from pipelines.data.windowing import window_vectors
    from pipelines.evaluate.skab.models import fit_scaler, ignored_features
    from pipelines.online import OnlineModel
    from pipelines.reference.assets import build_asset_normal

    model = OnlineModel.load(base)
    out = {}
    try:
        for run in load_skab_runs(data_dir):
            rows = run.values[:FIRST_ROWS]
            X = window_vectors(rows, window.length, window.stride, window.mode)
            scaler = fit_scaler(X, s, ignored_features(rows, s))
            out[f"skab/{run.name}"] = build_asset_normal(
                model.model, X, model.scorer, k=model.reference.k, groups=model.groups, folds=s.folds,
                gap=window.length - 1, scaler=scaler)
    finally:
        model.close()
    return out
