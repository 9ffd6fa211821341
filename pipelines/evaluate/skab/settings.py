"""Everything the SKAB protocol lets a run choose, in one frozen record (stored in the JSON record as it ran).

The defaults are the settings `latentwatch evaluate --protocol skab` reports. They were chosen on valve1 only, row
(a), alarmed windows, by one rule: the highest pooled F1 among the settings with FAR <= 10 %, over the grid in
docs/evaluation.md (SKAB section; `python -m pipelines.evaluate.skab.experiment` reruns it); valve2, other and the
pooled numbers were first computed with them unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

FIT_ROWS = 400  # SKAB's training span: each file's first 400 rows
SUBSETS = ("valve1", "valve2", "other")


@dataclass(frozen=True)
class SkabSettings:
    # windows (pipelines/data/windowing.py): a training choice, recorded in the artifact
    length: int = 10
    mode: str = "flatten"
    # the autoencoder (small: 400 rows per file)
    hidden: tuple[int, ...] = (32, 16)
    latent: int = 4
    epochs: int = 100
    patience: int = 10
    batch_size: int = 32
    scaler: str = "zscore"
    drift_tau: float | None = None  # channels trending more than this through the fit rows leave the score (drift.py)
    slow_below: float | None = 0.8  # channels smoother than this through the fit rows leave the score (drift.py)
    drop_channels: tuple[int, ...] = ()  # channels whose level features never enter the score
    # the training variant (pipelines/model/variants.py) and its hyperparameters: "ae" is the plain autoencoder
    variant: str = "ae"
    variant_params: dict[str, Any] = field(default_factory=dict)
    # the reference and the scorer (pipelines/scorers)
    scorer: str = "recon"
    scorer_params: dict[str, Any] = field(default_factory=dict)
    k: int = 10
    # each asset's calibration scores (pipelines/reference/assets.py)
    calibration: str = "crossfit"
    folds: int = 5
    # thresholds (pipelines/threshold) and decisions (pipelines/threshold/persistence.py)
    method: str = "spot"
    q: float = 1e-4
    level: float = 0.95
    m: int = 5
    n: int = 10
    release: int = 20
    # episodes (pipelines/episodes/episodes.py)
    quiet_windows: int = 5
    quiet_seconds: float | None = None  # no event-time rules: an episode closes on quiet windows only
    max_duration_s: float | None = None
    seed: int = 0

    def label(self) -> str:
        """The method's name in the tables: the scorer on the plain autoencoder, "<variant>:<scorer>" otherwise
        (as `latentwatch evaluate` names them)."""
        return self.scorer if self.variant == "ae" else f"{self.variant}:{self.scorer}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"], d["drop_channels"] = list(self.hidden), list(self.drop_channels)
        return d

    def with_(self, **changes: Any) -> SkabSettings:
        for key in ("hidden", "drop_channels"):
            if key in changes:
                changes[key] = tuple(changes[key])
        return replace(self, **changes)


def subset_of(name: str) -> str:
    """'valve1/3' -> 'valve1'."""
    return name.split("/", 1)[0]
