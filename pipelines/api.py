"""The public Python API, in the style of River and PyOD: fit a detector on arrays, score arrays, save and load the
artifact the daemon runs, and get the daemon's ``OnlineModel`` from a fitted detector in memory.

``from latentwatch import Detector`` is the same class (imported lazily, so ``import latentwatch`` stays cheap).
Hyperparameters are given to ``__init__`` and checked there; what is learnt lives in the attributes ending in ``_``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import fields
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.artifact.store import POINTER
from pipelines.fit import Fitted, TrainSpec, fit_calibrated, publish_fitted
from pipelines.online import OnlineModel, ScoredBatch
from pipelines.scorers import REGISTRY, make_scorer

SPLITS = {"time": "time", "random": "seeded"}  # Detector's name -> TrainSpec's
_EXPLICIT = ("scorer", "k", "hidden", "latent", "epochs", "split", "val_fraction", "split_gap", "scorer_params")
TRAIN_OPTIONS = tuple(f.name for f in fields(TrainSpec) if f.name not in _EXPLICIT)
DEFAULT = TrainSpec()


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _takes_k(scorer: str) -> bool:
    return "k" in inspect.signature(REGISTRY[scorer][0].__init__).parameters


def check_windows(X: Any, name: str = "X", dim: int | None = None) -> np.ndarray:
    """X as a float64 array [windows, features], or a ValueError saying what is wrong with it and where."""
    try:
        A = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be numeric: {e}") from None
    if A.ndim != 2 or A.shape[0] == 0 or A.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-d array [windows, features], got shape {A.shape}")
    if dim is not None and A.shape[1] != dim:
        raise ValueError(f"{name} has {A.shape[1]} features per window, the detector was fitted on {dim}")
    bad = ~np.isfinite(A).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise ValueError(f"{name} has NaN or inf in {int(bad.sum())} window(s), first rows {rows}")
    return A


class Detector:
    """An anomaly detector on windows (one feature vector per row): autoencoder, reference of normal windows in its
    latent space, and a scorer (higher scores are more anomalous).

    scorer: one of ``pipelines.scorers.REGISTRY`` ("ares", "ares-cal", "ares-rank", "ares-knn", "nln",
    "knn-latent", "lof-latent", "recon"). k: the neighbours of a window in the reference (its LOF) and, for a scorer
    that takes a k, the scorer's k (``scorer_params={"k": ...}`` sets the scorer's apart). hidden, latent, epochs:
    the autoencoder. split: which normal windows calibrate (the rest train): "time", the last ``val_fraction`` of
    each time-ordered run (rows in time order; ``split_gap`` windows before it are left out, for overlapping
    windows); "random", a random ``val_fraction`` drawn with ``seed``. seed: weights, batches and the random split.
    ``**train``: the other ``TrainSpec`` settings (``TRAIN_OPTIONS``: scaler, patience, lr, device, n_trees, ...).
    progress: a progress bar while training (None: when stderr is a terminal).
    """

    def __init__(
        self,
        scorer: str = "rank-mean",
        k: int = 10,
        *,
        hidden: Sequence[int] = (64, 32),
        latent: int = 8,
        epochs: int = 350,
        split: str = "time",
        val_fraction: float = 0.2,
        split_gap: int = 0,
        seed: int = 0,
        scorer_params: Mapping[str, Any] | None = None,
        progress: bool | None = False,
        **train: Any,
    ) -> None:
        if scorer not in REGISTRY:
            raise ValueError(f"scorer must be one of {sorted(REGISTRY)}, got {scorer!r}")
        if split not in SPLITS:
            raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
        if not isinstance(val_fraction, Real) or not 0.0 < val_fraction < 1.0:
            raise ValueError(f"val_fraction must be a number in (0, 1), got {val_fraction!r}")
        if unknown := sorted(set(train) - set(TRAIN_OPTIONS)):
            raise ValueError(f"unknown Detector option(s) {unknown}; the others are {sorted(TRAIN_OPTIONS)}")
        self.scorer: str = scorer
        self.k: int = _positive_int("k", k)
        self.hidden: tuple[int, ...] = tuple(_positive_int("hidden (each layer width)", h) for h in hidden)
        self.latent: int = _positive_int("latent", latent)
        self.epochs: int = _positive_int("epochs", epochs)
        self.split: str = split
        self.val_fraction: float = float(val_fraction)
        self.split_gap: int = split_gap
        self.seed: int = seed
        self.scorer_params: dict[str, Any] = dict(scorer_params or {})
        self.progress: bool | None = progress
        self.train: dict[str, Any] = dict(train)
        params = {"k": self.k, **self.scorer_params} if _takes_k(scorer) else self.scorer_params
        try:
            make_scorer(scorer, **params)
        except TypeError as e:
            raise ValueError(f"scorer_params {self.scorer_params} do not fit scorer {scorer!r}: {e}") from None
        self.spec: TrainSpec = TrainSpec(
            scorer=scorer,
            k=self.k,
            hidden=self.hidden,
            latent=self.latent,
            epochs=self.epochs,
            split=SPLITS[split],
            val_fraction=self.val_fraction,
            split_gap=split_gap,
            scorer_params=params,
            **train,
        )
        self._fitted: Fitted | None = None
        self._online: OnlineModel | None = None
        self.feature_names_: list[str] | None = None
        self.path_: Path | None = None

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in sorted(self.train.items()))
        return (
            f"Detector(scorer={self.scorer!r}, k={self.k}, hidden={self.hidden}, latent={self.latent}, "
            f"epochs={self.epochs}, split={self.split!r}, seed={self.seed}{extra})"
        )

    def fit(
        self, X: Any, feature_names: Sequence[str] | None = None, segments: Sequence[int] | None = None
    ) -> Detector:
        """Train on normal windows X [n, d] (float, finite); returns self.

        With ``split="time"`` the rows must be in time order and the last ``val_fraction`` of each run calibrates
        the scorer; ``segments`` gives the lengths of the runs X stacks (None: one run). feature_names: one per
        column (alerts name sensors by them; ``name[channel]`` groups a channel's features)."""
        X = check_windows(X)
        names = None if feature_names is None else [str(n) for n in feature_names]
        if names is not None and len(names) != X.shape[1]:
            raise ValueError(f"feature_names has {len(names)} names, X has {X.shape[1]} features")
        self._fitted = fit_calibrated(X, self.spec, self.seed, self.progress, segments)
        self._online, self.feature_names_, self.path_ = None, names, None
        return self

    def _manifest_extra(self) -> dict[str, Any]:
        return {} if self.feature_names_ is None else {"feature_names": self.feature_names_}

    def to_online(self) -> OnlineModel:
        """The daemon's scoring model (``pipelines.online.OnlineModel``) of this detector, built in memory from the
        fitted bundle (no files); it scores as ``OnlineModel.load(self.save(root))`` does."""
        if self._online is None:
            if self._fitted is None:
                raise RuntimeError("this Detector is not fitted: call fit(X) or Detector.load(path) first")
            f = self._fitted
            self._online = OnlineModel.in_memory(
                f.bundle.model,
                f.bundle.reference,
                f.scorer,
                f.calibration,
                {**f.manifest_fields(), **self._manifest_extra()},
            )
        return self._online

    def score_batch(self, X: Any, assets: Sequence[str] | None = None) -> ScoredBatch:
        """Score windows X [B, d] as the daemon does: scores, components, neighbours, reference used and the
        sensors that drive each score. ``assets``: one name per window (per-asset references of a loaded
        artifact)."""
        online = self.to_online()
        return online.score(check_windows(X, dim=online.dim), assets)

    def score(self, X: Any, assets: Sequence[str] | None = None) -> np.ndarray:
        """Anomaly scores of windows X [B, d], float64 [B]; higher is more anomalous."""
        return self.score_batch(X, assets).score

    decision_function = score  # PyOD's name for the raw scores

    @property
    def calibration_scores_(self) -> np.ndarray:
        """The scores of the validation (calibration) normals: what the daemon's thresholds start from."""
        return self.to_online().calibration

    @property
    def metrics_(self) -> dict[str, Any]:
        """Training figures (rows, best epoch, validation loss, seconds), as the manifest records them."""
        return dict(self.to_online().manifest.get("metrics", {}))

    def save(self, root: str | Path, make_current: bool = True) -> Path:
        """Publish a sealed artifact version under ``root`` (``root/versions/<version>``, sha256 of every file in
        its manifest; the format ``latentwatch train`` writes and the daemon loads); returns its directory.
        make_current: also point ``root/current.json`` at it."""
        if self._fitted is None:
            if self.path_ is not None:
                raise RuntimeError(
                    f"this Detector was loaded from {self.path_}, a sealed version already; fit() to train a new one"
                )
            raise RuntimeError("this Detector is not fitted: call fit(X) first")
        self.path_ = publish_fitted(Path(root), self._fitted, self._manifest_extra(), make_current)
        return self.path_

    @classmethod
    def load(cls, path: str | Path) -> Detector:
        """A Detector from a sealed artifact: a version directory, or a root whose ``current.json`` names one. Every
        file is checked against its sha256 first. The hyperparameters come from the manifest, so ``fit`` retrains
        with the same settings."""
        path = Path(path)
        online = OnlineModel.load_current(path) if (path / POINTER).is_file() else OnlineModel.load(path)
        spec = TrainSpec.from_dict(online.manifest["spec"])
        params = dict(spec.scorer_params)
        if _takes_k(spec.scorer) and "k" not in params and online.scorer.params().get("k") != spec.k:
            params = online.scorer.params()  # an artifact whose scorer kept its own default k (nln: 5)
        changed = {o: v for o in TRAIN_OPTIONS if (v := getattr(spec, o)) != getattr(DEFAULT, o)}
        det = cls(
            scorer=spec.scorer,
            k=spec.k,
            hidden=spec.hidden,
            latent=spec.latent,
            epochs=spec.epochs,
            split={v: k for k, v in SPLITS.items()}[spec.split or "seeded"],
            val_fraction=spec.val_fraction,
            split_gap=spec.split_gap,
            seed=int(online.manifest.get("seed", 0)),
            scorer_params=params,
            **changed,
        )
        det._online, det.path_ = online, online.path
        det.feature_names_ = online.manifest.get("feature_names")
        return det
