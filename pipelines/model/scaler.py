"""Input scaling that survives production.

Plain z-scoring divides by the training standard deviation. A feature that is almost constant in training (a
setpoint, a drive at rest) then explodes when it moves later: scaled values in the thousands swamp every other
feature and the reconstruction error with them. Two guards: the scale has a floor relative to the feature's own
magnitude (and an absolute floor), and scaled values are clipped to +-clip.

Two methods, one stored form (center, scale, clip), so an artifact stores and loads either unchanged:
- "zscore" (default): center = mean, scale = std.
- "minmax": center = min, scale = max - min, so training rows map to [0, 1]. z-scoring divides a sparse one-hot
  column (MI-F/MI-V's process stages) by its tiny standard deviation, so a rare stage bit becomes a +-10 coordinate
  that dominates both the reconstruction error and the latent geometry; min-max keeps it at 0/1
  (docs/evaluation.md). Both use the same floors and clip.

``then_range`` (TrainSpec.input_norm "range", the default; "scaler" is the papers' setup) follows the method's affine
map with the range of the training rows it produced, composed into one (center, scale) before the clip: the model's
input is then the same under either method (the floors are the same function of the rows), so the choice of method
no longer enters the model. That composition is min-max up to rounding (exactly min-max for "minmax"); what it buys
is that no scorer's accuracy hangs on the scaler (README, "The default scorer"; docs/default-scorer.json, and
docs/default-scorer-scaler.json without it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METHODS = ("zscore", "minmax")
INPUT_NORMS = ("range", "scaler")  # TrainSpec.input_norm: "range" = then_range, "scaler" = the method alone


@dataclass(frozen=True)
class Scaler:
    center: np.ndarray  # float64 [d]
    scale: np.ndarray  # float64 [d], every entry > 0
    clip: float

    @classmethod
    def fit(
        cls,
        X: np.ndarray,
        clip: float = 10.0,
        rel_floor: float = 1e-3,
        abs_floor: float = 1e-6,
        method: str = "zscore",
        then_range: bool = False,
    ) -> Scaler:
        if method not in METHODS:
            raise ValueError(f"scaler: method must be one of {METHODS}, got {method!r}")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] < 2:
            raise ValueError(f"scaler needs a 2-d array with at least 2 rows, got shape {X.shape}")
        if not np.isfinite(X).all():
            raise ValueError("scaler: training data holds NaN or inf")
        if clip <= 0:
            raise ValueError(f"scaler: clip must be > 0, got {clip}")
        if method == "zscore":
            center, spread = X.mean(axis=0), X.std(axis=0)
        else:
            center = X.min(axis=0)
            spread = X.max(axis=0) - center
        magnitude = np.maximum(np.abs(X).max(axis=0), np.abs(center))
        floor = np.maximum(rel_floor * magnitude, abs_floor)
        scale = np.maximum(spread, floor)
        if then_range:
            Z = (X - center) / scale
            low, high = Z.min(axis=0), Z.max(axis=0)
            center, scale = center + scale * low, np.maximum(scale * (high - low), floor)
        return cls(center=center, scale=scale, clip=float(clip))

    @property
    def dim(self) -> int:
        return int(self.center.shape[0])

    def transform(self, X: np.ndarray) -> np.ndarray:
        Z = (np.asarray(X, dtype=np.float64) - self.center) / self.scale
        np.clip(Z, -self.clip, self.clip, out=Z)
        out: np.ndarray = Z.astype(np.float32)
        return out

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"center": self.center, "scale": self.scale, "clip": np.array([self.clip])}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Scaler:
        scale = np.asarray(arrays["scale"], dtype=np.float64)
        if (scale <= 0).any() or not np.isfinite(scale).all():
            raise ValueError("scaler: stored scale must be finite and > 0")
        return cls(
            center=np.asarray(arrays["center"], dtype=np.float64),
            scale=scale,
            clip=float(np.asarray(arrays["clip"]).ravel()[0]),
        )
