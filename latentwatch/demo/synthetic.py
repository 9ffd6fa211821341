"""`latentwatch demo --synthetic`: the same chain on the simulated plant (``pipelines.data.synthetic``), for when the
data sets are absent.

The deployment shape of the SKAB demo, on the plant: one model trained on every asset's fault-free first day, each
asset's own scaler, reference and thresholds from that same day (``deployment_normal``), and the days after it
streamed through the broker with the faults in them. Settings: SKAB's row (b) except the slow-channel guard
(``slow_below``), which drops the level of channels smoother than white noise: every sensor of the plant follows a
daily cycle, so it would drop them all. The artifact goes to its own root beside the config's (``<root>-synthetic``),
so the SKAB demo's artifact stays current."""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from latentwatch.demo import now, say

SOURCE = "synthetic"
TRAINING = "plant-normal-period"


def plant_spec(args: argparse.Namespace) -> Any:
    from pipelines.data.synthetic import PlantSpec

    days = getattr(args, "plant_days", None)
    return PlantSpec(seed=args.seed) if days is None else PlantSpec(seed=args.seed, test_days=days)


def settings(args: argparse.Namespace) -> Any:
    from latentwatch.demo.model import demo_settings

    return demo_settings(args).with_(slow_below=None)


def artifact_root(cfg: Any) -> Path:
    """Beside the config's artifact root (var/artifacts when the config pins a version instead)."""
    root = Path(cfg.artifact.root) if cfg.artifact.root is not None else Path("var/artifacts")
    return root.with_name(root.name + "-synthetic")


def window_spec(s: Any) -> Any:
    from pipelines.sources import WindowSpec

    return WindowSpec(s.length, 1, s.mode)


def ensure_artifact(cfg: Any, args: argparse.Namespace, runs: list[Any]) -> dict[str, Any]:
    """The plant's artifact under ``artifact_root(cfg)``: the current one when it was trained on this plant with these
    settings, else one trained now."""
    from latentwatch.replay import read_manifest

    root, spec, s = artifact_root(cfg), plant_spec(args), settings(args)
    reason = "--retrain" if args.retrain else None
    if reason is None:
        try:
            manifest = read_manifest(root)
        except Exception:
            reason = f"no current artifact under {root}"
        else:
            from pipelines.fit import fingerprint

            X = np.vstack([x for _, x in normal_periods(runs, s).values()])
            same = manifest.get("plant") == spec.to_dict() and manifest.get("data_fingerprint") == fingerprint(X)
            if not same or manifest.get("skab_settings") != s.to_dict():
                reason = f"the current artifact under {root} was trained on another plant or with other settings"
            else:
                from pipelines.artifact.store import resolve_current

                return _info(manifest, resolve_current(root), root, trained_now=False)
    return train(root, args, runs, reason)


def _info(manifest: dict[str, Any], path: Path, root: Path, trained_now: bool, **more: Any) -> dict[str, Any]:
    return {
        "version": manifest["version"],
        "path": str(path),
        "root": str(root),
        "trained_now": trained_now,
        "source": SOURCE,
        "window": manifest.get("window"),
        "dim": manifest.get("dim"),
        "asset_normals": manifest["assets"]["keys"],
        "settings": manifest["skab_settings"],
        "plant": manifest["plant"],
        **more,
    }


def normal_periods(runs: list[Any], s: Any) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per asset: its normal period's rows and windows (what the model and the asset's own normal learn from)."""
    from pipelines.data.windowing import window_vectors

    out = {}
    for r in runs:
        rows = np.asarray(r.values[: r.normal_rows])
        out[r.name] = (rows, window_vectors(rows, s.length, 1, s.mode))
    return out


def train(root: Path, args: argparse.Namespace, runs: list[Any], reason: str) -> dict[str, Any]:
    """The base model on every asset's normal period (in asset order, time-ordered within each), then each asset's
    own normal from its normal period, published as one artifact."""
    import time

    import torch

    from latentwatch.demo.model import publish_base
    from pipelines.artifact.assets import publish_assets
    from pipelines.data.synthetic import SENSORS
    from pipelines.data.windowing import window_feature_names
    from pipelines.evaluate.skab.models import deployment_base, deployment_normal
    from pipelines.online import OnlineModel

    torch.set_num_threads(1)
    t0, c0 = now(), time.process_time()
    s, spec = settings(args), plant_spec(args)
    normal = normal_periods(runs, s)
    X = np.vstack([x for _, x in normal.values()])
    say(
        f"model: {reason}; training a synthetic-plant artifact into {root}: {len(X)} windows of the {len(runs)} "
        f"assets' normal period x {X.shape[1]} features (window {s.length}, {s.mode}), {s.epochs} epochs "
        f"(patience {s.patience}), scorer {s.scorer}, 1 torch thread"
    )
    model, scorer = deployment_base(X, s, np.vstack([rows for rows, _ in normal.values()]))
    fields = {
        "source": SOURCE,
        "training": TRAINING,
        "feature_names": list(window_feature_names(SENSORS, s.length, s.mode)),
        "plant": spec.to_dict(),
    }
    base = publish_base(root, model, scorer, X, s, None, fields=fields)
    online = OnlineModel.load(base)
    try:
        heads = {
            f"{SOURCE}/{name}": deployment_normal(online.model, online.scorer, x, rows, s, groups=online.groups)
            for name, (rows, x) in normal.items()
        }
    finally:
        online.close()
    path = publish_assets(root, base, heads, fields={"asset_normals": {"source": SOURCE, "rows": "normal period"}})
    manifest = json.loads((path / "manifest.json").read_text())
    wall, cpu = now() - t0, time.process_time() - c0
    say(f"model: trained {manifest['version']} with each asset's own normal in {wall:.0f} s wall, {cpu:.0f} s CPU")
    return _info(
        manifest,
        path,
        root,
        trained_now=True,
        reason=reason,
        epochs=s.epochs,
        train_wall_s=round(wall, 1),
        train_cpu_s=round(cpu, 1),
    )


def make_plant(spec: Any) -> list[Any]:
    from pipelines.data.synthetic import make_plant as make

    return list(make(spec))


def plan(runs: list[Any], args: argparse.Namespace) -> Any:
    """What the demo replays: every asset's streamed windows, merged by time."""
    from latentwatch.replay import Plan

    return Plan.build(SOURCE, streams(runs, settings(args)))


def streams(runs: list[Any], s: Any) -> list[Any]:
    """Each asset's windows that end after its normal period, labelled anomalous when a fault row is inside."""
    from pipelines.data.windowing import window_end_index, window_labels, window_vectors
    from pipelines.sources import WindowStream

    out = []
    for r in runs:
        ends = window_end_index(len(r), s.length, 1)
        keep = ends >= r.normal_rows
        X = window_vectors(r.values, s.length, 1, s.mode)[keep]
        y = window_labels(r.anomaly, s.length, 1)[keep]
        ts = r.timestamps[ends[keep]].astype("datetime64[ms]").astype(np.int64)
        out.append(WindowStream(f"{SOURCE}/{r.name}", X, y, ts))
    return out


def scores(
    runs: list[Any], episodes: dict[str, dict[str, Any]], alerts: list[dict[str, Any]], s: Any
) -> dict[str, Any]:
    """SKAB's metrics (``pipelines.evaluate.skab.metrics``) of the streamed rows, flagged from each episode's opening
    window to its last alarm (its "faults" count assets, one per file as SKAB's files hold one fault each), and per
    injected fault: caught (an episode overlaps its rows), the delay from its first row to that episode's opening,
    and the sensor the alerts inside it named first most often ("per_fault" sums them up)."""
    from pipelines.evaluate.skab.metrics import FileDecisions, evaluate

    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for ep in episodes.values():
        spans[ep["asset"]].append((int(round(ep["opened_ts"] * 1000)), int(round(ep["last_ts"] * 1000))))
    named: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for a in alerts:
        if a.get("sensors") and (a.get("episode") or {}).get("event") != "close":
            named[a["asset"]].append((int(a["ts_ms"]), str(a["sensors"][0]["sensor"])))
    files, faults = [], []
    for r in runs:
        asset = f"{SOURCE}/{r.name}"
        rows = np.arange(r.normal_rows, len(r))
        ts = r.timestamps[rows].astype("datetime64[ms]").astype(np.int64)
        flags = np.zeros(len(rows), dtype=bool)
        for lo, hi in spans.get(asset, []):
            flags |= (ts >= lo) & (ts <= hi)
        files.append(FileDecisions(asset, ts // 1000, r.anomaly[rows], r.changepoint[rows], flags))
        for f in r.faults:
            t0 = int(r.timestamps[f.start].astype("datetime64[ms]").astype(np.int64))
            t1 = int(r.timestamps[f.end - 1].astype("datetime64[ms]").astype(np.int64))
            opened = [lo for lo, hi in spans.get(asset, []) if lo <= t1 and hi >= t0]
            top = Counter(sensor for t, sensor in named.get(asset, []) if t0 <= t <= t1).most_common(1)
            faults.append(
                {
                    "asset": asset,
                    **f.to_dict(),
                    "detected": bool(opened),
                    "delay_s": (min(opened) - t0) / 1000.0 if opened else None,
                    "top_sensor": top[0][0] if top else None,
                    "cause_named": bool(top) and top[0][0] == f.sensor,
                }
            )
    delays = [f["delay_s"] for f in faults if f["detected"]]
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for f in faults:
        by_kind[f["kind"]][0] += f["detected"]
        by_kind[f["kind"]][1] += 1
    per_fault = {
        "injected": len(faults),
        "detected": sum(f["detected"] for f in faults),
        "cause_named": sum(f["cause_named"] for f in faults),
        "median_delay_s": float(np.median(delays)) if delays else None,
        "by_kind": {k: {"detected": d, "of": n} for k, (d, n) in sorted(by_kind.items())},
    }
    return {**evaluate(files), "per_fault": per_fault, "injected": faults}
