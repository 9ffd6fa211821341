"""The refresh from windows in memory to a published version: select, rebuild, validate, write, point current at it,
prune. Reading the windows and the alerts (a topic or files) is the command's part (``latentwatch refresh``).

Nothing is written before the scores part of the validation passes; a version that is written but fails the model
check is removed before current is touched, so a failed refresh leaves current.json byte for byte as it was.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pipelines.artifact.store import prune, remove_staging, set_current, verify
from pipelines.online import OnlineModel
from pipelines.refresh.rebuild import rebuild, write_version
from pipelines.refresh.scoring import quantile_limits, reference_keys, score_current
from pipelines.refresh.select import AlarmRanges, Selection, select
from pipelines.refresh.validate import Labels, Rule, Verdict, same_model, validate


class Settings(Protocol):
    """The ``refresh`` config section's keys the job reads (``daemon.config.refresh.RefreshConfig``)."""

    @property
    def max_windows(self) -> int: ...
    @property
    def exclude_quantile(self) -> float: ...
    @property
    def holdout_fraction(self) -> float: ...
    @property
    def keep_versions(self) -> int: ...
    @property
    def seed(self) -> int: ...


@dataclass
class Outcome:
    status: str  # "published", "dry_run" or "failed"
    selection: Selection
    verdict: Verdict
    version: str | None = None  # the new version (published) or None
    previous: str | None = None
    pruned: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "version": self.version,
            "refreshed_from": self.previous,
            **self.selection.counts(),
            "validation": {"ok": self.verdict.ok, "reasons": self.verdict.reasons, **self.verdict.metrics},
            "pruned": self.pruned,
            "seconds": self.seconds,
        }


def refresh(
    root: Path,
    X: np.ndarray,
    assets: np.ndarray,
    ts_ms: np.ndarray,
    ranges: AlarmRanges,
    since: Mapping[str, int],
    settings: Settings,
    rule: Rule,
    *,
    labels: Labels | None = None,
    dry_run: bool = False,
    fields: Mapping[str, Any] | None = None,
) -> Outcome:
    """Refresh the current version under ``root`` from windows X [n, d] (raw, any order), their assets and ts."""
    clock = {"start": time.perf_counter()}

    def lap(name: str) -> None:
        clock[name] = time.perf_counter()

    X, assets, ts_ms = windows_array(X), np.asarray(assets).astype(str, copy=False), np.asarray(ts_ms, np.int64)
    if len(ts_ms) > 1 and bool((np.diff(ts_ms) < 0).any()):  # a topic's windows come sorted: no copy then
        order = np.argsort(ts_ms, kind="stable")
        X, assets, ts_ms = X[order], assets[order], ts_ms[order]
    model = OnlineModel.load_current(root)
    try:
        scores = score_current(model, X, assets)
        if settings.exclude_quantile >= 1.0:  # 1: the quantile rule leaves nothing out
            above = np.zeros(len(X), dtype=bool)
        else:
            above = scores > quantile_limits(model, reference_keys(model, assets), settings.exclude_quantile)
        lap("score_current")
        sel = select(assets, ts_ms, above, ranges, since, settings.max_windows, settings.seed)
        everything = len(sel.keep) == len(X)  # then the kept windows are X itself, not a copy
        Xk, ak = (X, assets) if everything else (X[sel.keep], assets[sel.keep])
        rebuilt, hold = rebuild(model, Xk, ak, settings.holdout_fraction, settings.seed)
        lap("rebuild")
        verdict = validate(model, rebuilt, Xk[hold], ak[hold], rule, labels)
        lap("validate")
        out = Outcome("failed" if not verdict.ok else "dry_run", sel, verdict, previous=model.version)
        if verdict.ok and not dry_run:
            record = {
                "refreshed_from": model.version,
                "source": "refresh",
                "windows": int(len(sel.keep)),
                "data_fingerprint": fingerprint(Xk),
                "refresh": {
                    **dict(fields or {}),
                    **sel.counts(),
                    "reference_windows": rebuilt.reference_rows,
                    "calibration_windows": rebuilt.calibration_rows,
                    "asset_normals_rebuilt": sorted(rebuilt.normals),
                    "validation": verdict.metrics,
                },
            }
            path = write_version(root, model, rebuilt, record)
            if reasons := same_model(model.manifest, verify(path, deferred=lambda n: n.startswith("assets-"))):
                remove_staging(path)
                verdict.ok, out.status = False, "failed"
                verdict.reasons.extend(reasons)
            else:
                set_current(root, path.name)
                out.status, out.version = "published", path.name
                out.pruned = prune(root, settings.keep_versions, protect=(model.version, path.name))
            lap("publish")
    finally:
        model.close()
    names = list(clock)
    out.seconds = {b: round(clock[b] - clock[a], 3) for a, b in zip(names, names[1:], strict=False)}
    return out


def windows_array(X: Any) -> np.ndarray:
    """X as float32 if it is float32 (the decoder's values, as the topic reader gives them: every step after this
    widens them to float64 where it computes, so the results are those of the float64 array), else float64."""
    arr: np.ndarray = np.asarray(X)
    return arr if arr.dtype == np.float32 else arr.astype(np.float64, copy=False)


def fingerprint(X: np.ndarray, chunk: int = 65_536) -> str:
    """sha256 of X's rows as float64 bytes (the same for a float32 array and its float64 copy), chunk by chunk:
    no copy of all the windows' bytes."""
    h = hashlib.sha256()
    for s in range(0, len(X), chunk):
        h.update(np.ascontiguousarray(X[s : s + chunk], dtype=np.float64).tobytes())
    return h.hexdigest()
