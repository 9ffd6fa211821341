"""Whether a rebuilt version may replace the current one.

The rule (all must hold):
- the same model: the new version's model files have the current's sha256, and its width is the current's;
- on the holdout (recent selected windows in no reference), the alarm rate under the new references, each window
  against its threshold (``pipelines/refresh/scoring.py``), is at most the current's + ``max_alarm_rate_increase``;
- with labelled windows, the AUROC under the new references is at least the current's - ``max_auroc_drop``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from pipelines.data.tables import DataError
from pipelines.online import OnlineModel
from pipelines.refresh.rebuild import MODEL_FILES
from pipelines.refresh.scoring import Rebuilt, reference_keys, score_current, score_rebuilt, thresholds


@dataclass(frozen=True)
class Rule:
    max_alarm_rate_increase: float
    max_auroc_drop: float
    q: float  # the threshold section's risk and initial level
    level: float


@dataclass
class Labels:
    X: np.ndarray
    y: np.ndarray
    asset: np.ndarray


@dataclass
class Verdict:
    ok: bool
    reasons: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)


def read_labels(path: Path, width: int) -> Labels:
    """An .npz of X [n, width], y [n] (1 anomalous, 0 normal, both present) and optionally asset [n]."""
    try:
        with np.load(path, allow_pickle=False) as z:
            X, y = np.asarray(z["X"], dtype=np.float64), np.asarray(z["y"]).astype(int)
            asset = np.asarray(z["asset"]).astype(str) if "asset" in z.files else np.full(len(X), "", dtype=str)
    except (OSError, ValueError, KeyError) as e:
        raise DataError(f"refresh.labels {path}: {e} (an .npz with X, y and optionally asset)") from None
    if X.ndim != 2 or X.shape[1] != width:
        raise DataError(f"refresh.labels {path}: X has shape {X.shape}, the model takes {width} values per window")
    if y.shape != (len(X),) or asset.shape != (len(X),) or set(np.unique(y).tolist()) != {0, 1}:
        raise DataError(f"refresh.labels {path}: y (and asset) need one entry per row of X and both labels 0 and 1")
    return Labels(X, y, asset)


def alarm_rates(
    model: OnlineModel, rebuilt: Rebuilt, X: np.ndarray, assets: np.ndarray, rule: Rule
) -> tuple[float, float]:
    """(current, new) fraction of the windows above their reference's threshold."""
    keys = reference_keys(model, assets)
    cur = score_current(model, X, assets) > thresholds(model, None, keys, rule.q, rule.level)
    new = score_rebuilt(model, rebuilt, X, assets) > thresholds(model, rebuilt, keys, rule.q, rule.level)
    return float(cur.mean()), float(new.mean())


def aurocs(model: OnlineModel, rebuilt: Rebuilt, labels: Labels) -> tuple[float, float]:
    cur = score_current(model, labels.X, labels.asset)
    new = score_rebuilt(model, rebuilt, labels.X, labels.asset)
    return float(roc_auc_score(labels.y, cur)), float(roc_auc_score(labels.y, new))


def validate(
    model: OnlineModel,
    rebuilt: Rebuilt,
    X_hold: np.ndarray,
    a_hold: np.ndarray,
    rule: Rule,
    labels: Labels | None = None,
) -> Verdict:
    """The scores part of the rule (see the module docstring), in memory, before anything is written."""
    verdict = Verdict(ok=True)
    if rebuilt.reference.latents.shape[1] != model.model.latent_dim:
        verdict.reasons.append(
            f"the new reference has latent width {rebuilt.reference.latents.shape[1]}, the model "
            f"{model.model.latent_dim}"
        )
    cur, new = alarm_rates(model, rebuilt, X_hold, a_hold, rule)
    verdict.metrics.update({"holdout": int(len(X_hold)), "alarm_rate_current": cur, "alarm_rate_new": new})
    if new > cur + rule.max_alarm_rate_increase:
        verdict.reasons.append(
            f"the held-out alarm rate rises from {cur:.4f} to {new:.4f}, more than the "
            f"{rule.max_alarm_rate_increase:g} allowed (refresh.max_alarm_rate_increase)"
        )
    if labels is not None:
        a_cur, a_new = aurocs(model, rebuilt, labels)
        verdict.metrics.update({"auroc_current": a_cur, "auroc_new": a_new})
        if a_new < a_cur - rule.max_auroc_drop:
            verdict.reasons.append(
                f"the labelled AUROC drops from {a_cur:.4f} to {a_new:.4f}, more than the "
                f"{rule.max_auroc_drop:g} allowed (refresh.max_auroc_drop)"
            )
    verdict.ok = not verdict.reasons
    return verdict


def same_model(current: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Why the new manifest's model differs from the current's ([] when it is the same model and width)."""
    cur_files, new_files = dict(current.get("files", {})), dict(new.get("files", {}))
    reasons = [
        f"{name} differs from the current version's (sha256)"
        for name in MODEL_FILES
        if cur_files.get(name) is None or cur_files.get(name) != new_files.get(name)
    ]
    if current.get("dim") != new.get("dim"):
        reasons.append(f"the width {new.get('dim')} is not the current {current.get('dim')}")
    return reasons
