"""The one configuration the evaluation uses for every data set (the paper does not tune per data set)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from pipelines.scorers import REGISTRY
from pipelines.train import TrainSpec

DEFAULT_SPEC = TrainSpec()
DEFAULT_SCORERS: tuple[str, ...] = tuple(REGISTRY)

PROTOCOL_NOTES = [
    "Training: Adam, MSE, batch 250, up to 350 epochs, early stopping with patience 20 on the validation loss "
    "(ARES section 5.1), best weights kept; CPU.",
    "Every scorer scores the same test rows with the same model and reference; scorers with a normalisation "
    "(ares-cal, nln) fit it on the validation normals only.",
    "Baselines use the model's scaler (fitted on the training split) on the same rows; OC-SVM trains on at most "
    "ocsvm_max_train seeded random training rows.",
]

# Per-data-set overrides (none so far): {"data set": {"spec": {...TrainSpec fields}, "scorers": {name: {...}}}}
OVERRIDES: dict[str, dict[str, Any]] = {}


def spec_for(dataset: str, base: TrainSpec = DEFAULT_SPEC) -> TrainSpec:
    return replace(base, **OVERRIDES.get(dataset, {}).get("spec", {}))


def scorer_params_for(dataset: str, scorer: str) -> dict[str, Any]:
    return dict(OVERRIDES.get(dataset, {}).get("scorers", {}).get(scorer, {}))
