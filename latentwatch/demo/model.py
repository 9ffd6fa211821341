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

import numpy as np

from latentwatch.demo import DemoError, now, say
from latentwatch.demo.skab_scores import FIRST_ROWS

ANOMALY_FREE = "anomaly-free"


def ensure_artifact(cfg: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The artifact the daemon will load (training one when needed); returns what the summary says about it."""
    from latentwatch.replay import read_manifest

    if cfg.artifact.path is not None:
        manifest = read_manifest(cfg.artifact.path)
        if manifest.get("source") != "skab":
            raise DemoError(
                f"artifact.path {cfg.artifact.path} holds a {manifest.get('source')} model; the demo "
                "replays SKAB: use a config that follows an artifact root"
            )
        if args.retrain:
            raise DemoError("--retrain with a pinned artifact.path: the daemon would not load the new model")
        return {
            "version": manifest["version"],
            "path": str(cfg.artifact.path),
            "trained_now": False,
            "source": "skab",
            "window": manifest.get("window"),
            "dim": manifest.get("dim"),
        }
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
                reason = (
                    f"the current artifact under {root} is not the deployment shape (a model of the "
                    "anomaly-free run with each run's own normal)"
                )
            elif manifest.get("skab_settings") != demo_settings(args).to_dict():
                reason = (
                    f"the current artifact under {root} was not trained with the SKAB evaluation's settings "
                    "(pipelines/evaluate/skab/settings.py) and this --seed/--epochs"
                )
            else:
                from pipelines.artifact.store import resolve_current

                return {
                    "version": manifest["version"],
                    "path": str(resolve_current(root)),
                    "trained_now": False,
                    "source": "skab",
                    "window": manifest.get("window"),
                    "dim": manifest.get("dim"),
                    "asset_normals": manifest["assets"]["keys"],
                    "settings": manifest["skab_settings"],
                }
    return train_artifact(root, args, reason)


def demo_settings(args: argparse.Namespace) -> Any:
    """The SKAB evaluation's row (b) settings (``pipelines.evaluate.skab.settings``, chosen on valve1 only), with
    the demo's --seed and, only when given, --epochs."""
    from pipelines.evaluate.skab.settings import SkabSettings

    s = SkabSettings().with_(seed=args.seed)
    return s if args.epochs is None else s.with_(epochs=args.epochs)


def train_artifact(root: Path, args: argparse.Namespace, reason: str) -> dict[str, Any]:
    """Row (b)'s model exactly as ``latentwatch evaluate --protocol skab`` builds it
    (``pipelines.evaluate.skab.models.deployment_base`` and ``deployment_normal``), published as an artifact."""
    import numpy as np
    import torch

    from pipelines.artifact.assets import publish_assets
    from pipelines.data import load_skab_anomaly_free
    from pipelines.data.windowing import window_vectors
    from pipelines.evaluate.skab.models import deployment_base

    torch.set_num_threads(1)  # a small MLP: one thread is as fast and does not fight the broker for the cores
    t0, c0 = now(), time.process_time()
    s = demo_settings(args)
    free = load_skab_anomaly_free(args.data_dir)
    X = window_vectors(free.values, s.length, 1, s.mode)
    say(
        f"model: {reason}; training a SKAB artifact into {root} with the SKAB evaluation's row (b) settings: "
        f"{len(X)} windows of the anomaly-free run x {X.shape[1]} features (window {s.length}, {s.mode}), "
        f"{s.epochs} epochs (patience {s.patience}), hidden {list(s.hidden)}, latent {s.latent}, scorer {s.scorer}, "
        "1 torch thread"
    )
    model, scorer = deployment_base(X, s, np.asarray(free.values))
    base = publish_base(root, model, scorer, X, s, args.data_dir)
    heads = asset_normals(base, s, args.data_dir)
    path = publish_assets(
        root,
        base,
        heads,
        fields={
            "asset_normals": {
                "source": "skab",
                "first_rows": FIRST_ROWS,
                "own_scaler": "the SKAB evaluation's (slow channels guarded)",
            }
        },
    )
    say(
        f"model: each of the {len(heads)} runs' own scaler, reference and thresholds from its windows ending within "
        f"its first {FIRST_ROWS} rows ({sum(len(h.calibration) for h in heads.values())} windows)"
    )
    manifest = json.loads((path / "manifest.json").read_text())
    wall, cpu = now() - t0, time.process_time() - c0
    say(f"model: trained {manifest['version']} in {wall:.0f} s wall, {cpu:.0f} s CPU")
    return {
        "version": manifest["version"],
        "path": str(path),
        "trained_now": True,
        "source": "skab",
        "window": manifest.get("window"),
        "dim": manifest.get("dim"),
        "reason": reason,
        "epochs": s.epochs,
        "settings": s.to_dict(),
        "asset_normals": manifest["assets"]["keys"],
        "train_wall_s": round(wall, 1),
        "train_cpu_s": round(cpu, 1),
    }


def publish_base(
    root: Path,
    model: Any,
    scorer: Any,
    X: np.ndarray,
    s: Any,
    data_dir: str | None,
    fields: dict[str, Any] | None = None,
) -> Path:
    """The shared part of the artifact: the model, a global reference of the first 80 % of the anomaly-free
    windows and, as the shared calibration, the scores of the last 20 % against it (the split
    ``deployment_base`` validates on). Every SKAB run has its own normal, so none of them uses these.
    ``fields``: the manifest's source, training and feature_names when the windows are not SKAB's (the synthetic
    plant), with anything else it records."""
    from pipelines.artifact import codec
    from pipelines.artifact.store import publish, remove_staging, staging_dir
    from pipelines.evaluate.skab.models import time_split
    from pipelines.fit import fingerprint
    from pipelines.reference.assets import score_against
    from pipelines.reference.build import build_reference
    from pipelines.sources import WindowSpec, feature_names

    tr, va = time_split(len(X))
    window = WindowSpec(s.length, 1, s.mode)
    reference = build_reference(model, model.scaler.transform(X[tr]), k=s.k, n_trees=10, seed=s.seed)
    calibration = score_against(model, reference, scorer, X[va])
    source = fields or {
        "source": "skab",
        "training": ANOMALY_FREE,
        "feature_names": feature_names("skab", window, data_dir),
    }
    staged = staging_dir(Path(root))
    try:
        codec.save_model(staged, model)
        codec.save_reference(staged, reference)
        codec.save_scorer(staged, scorer, calibration)
        return publish(
            Path(root),
            staged,
            {
                "data_fingerprint": fingerprint(X),
                "seed": s.seed,
                "skab_settings": s.to_dict(),
                "scorer": scorer.name,
                "dim": int(X.shape[1]),
                "window": window.to_dict(),
                "normal_class": 0,
                **source,
                "metrics": {"train_rows": int(len(tr)), "val_rows": int(len(va)), "reference_items": reference.size},
            },
        )
    except BaseException:
        remove_staging(staged)
        raise
    finally:
        reference.index.close()


def asset_normals(base: Path, s: Any, data_dir: str | None) -> dict[str, Any]:
    """Each labelled run's own normal from the windows of its first 400 rows: the SKAB evaluation's
    ``deployment_normal`` (own scaler fitted on those windows, slow channels guarded; own reference; cross-fitted
    calibration scores), with the artifact's frozen model and scorer."""
    import numpy as np

    from pipelines.data import load_skab_runs
    from pipelines.data.windowing import window_vectors
    from pipelines.evaluate.skab.models import deployment_normal
    from pipelines.online import OnlineModel

    model = OnlineModel.load(base)
    out = {}
    try:
        for run in load_skab_runs(data_dir):
            rows = np.asarray(run.values[:FIRST_ROWS])
            X = window_vectors(rows, s.length, 1, s.mode)
            out[f"skab/{run.name}"] = deployment_normal(model.model, model.scorer, X, rows, s, groups=model.groups)
    finally:
        model.close()
    return out
