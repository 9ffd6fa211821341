"""The SKAB artifact the demo's daemon loads: the config's current one, or one trained now."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from latentwatch.demo import DemoError, now, say

DEFAULT_EPOCHS = 30


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
            else:
                from pipelines.artifact.store import resolve_current

                return {"version": manifest["version"], "path": str(resolve_current(root)), "trained_now": False,
                        "source": "skab", "window": manifest.get("window"), "dim": manifest.get("dim")}
    return train_artifact(root, args, reason)


def train_artifact(root: Path, args: argparse.Namespace, reason: str) -> dict[str, Any]:
    import torch

    from pipelines.sources import WindowSpec, normal_windows
    from pipelines.train import TrainSpec, fit_artifact

    torch.set_num_threads(1)  # a small MLP: one thread is as fast and does not fight the broker for the cores
    t0, c0 = now(), time.process_time()
    window = WindowSpec()
    X = normal_windows("skab", args.data_dir, window)
    spec = TrainSpec(epochs=args.epochs)
    say(f"model: {reason}; training a SKAB artifact into {root}: {len(X)} normal windows x {X.shape[1]} features, "
        f"{spec.epochs} epochs, hidden {list(spec.hidden)}, latent {spec.latent}, scorer {spec.scorer}, 1 torch thread")
    path = fit_artifact(X, root, spec, seed=args.seed, progress=False,
                        extra={"source": "skab", "window": window.to_dict(), "normal_class": 0})
    manifest = json.loads((path / "manifest.json").read_text())
    wall, cpu = now() - t0, time.process_time() - c0
    say(f"model: trained {manifest['version']} in {wall:.0f} s wall, {cpu:.0f} s CPU "
        f"(best epoch {manifest['metrics']['best_epoch']}, val loss {manifest['metrics']['best_val_loss']:.4g})")
    return {"version": manifest["version"], "path": str(path), "trained_now": True, "source": "skab",
            "window": manifest.get("window"), "dim": manifest.get("dim"), "reason": reason, "epochs": spec.epochs,
            "train_wall_s": round(wall, 1), "train_cpu_s": round(cpu, 1), "metrics": manifest["metrics"]}
