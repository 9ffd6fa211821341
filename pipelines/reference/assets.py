"""One asset's own normal: its reference and its calibration scores, built with the artifact's frozen model.

    build_asset_normal(model, X_normal, scorer, *, k, n_trees, seed, exact_max, search_k, dedup,
                       calibration="crossfit", folds=5, holdout=0.2, gap=0) -> AssetNormal

- ``X_normal`` [n, d]: the asset's normal windows, raw (the model's scaler is applied here), in time order.
- ``AssetNormal.reference``: ``build_reference`` over all n windows, with the same k, dedup policy and per-item
  statistics as the global reference (so every scorer reads it unchanged); ``window_ids`` are 0..n-1, positions
  in ``X_normal``.
- ``AssetNormal.calibration`` float64 [n_cal]: scores of the asset's own normal windows, none of them scored
  against a reference that contains it:
  - ``"crossfit"`` (default): ``folds`` contiguous blocks in time order; each block is scored against a reference
    built from the other blocks; n_cal = n. Cross-fitting over the whole normal span gave SKAB's per-file
    baselines half the false alarms of a 300/100 split (issue 10, FAR 30 -> 15 %).
  - ``"split"``: the last ``holdout`` fraction is scored against a reference of the windows before it.
  ``gap``: windows within ``gap`` positions of a held block are left out of its reference too (overlapping
  sliding windows share rows: pass the window length - 1 so no held window has a near copy in its reference).
- ``n_trees`` 0 (default): no Annoy index; an asset's few hundred windows are searched exactly (k-d tree), and
  the artifact stores no index file per asset. ``groups``: the explanation group of each feature (see
  ``build_reference``).
- ``scaler``: the asset's own input scaler. Assets whose operating point lies far from the training data (SKAB's
  valve runs sit 40-60 anomaly-free standard deviations away on four channels) clip through the model's scaler, and
  no score separates their faults; their own scaler, fitted on their normal windows, keeps them in range.
- ``scorer`` is used as it is: its normalisation (``Scorer.fit``) stays the one fitted on the global validation
  normals. Why global: the score keeps one unit across the fleet (one asset's score can be compared to another's,
  benchmarks and alerts read the same), an asset's level is taken up by its own threshold, which starts from these
  calibration scores, and a 400-row normal span is too short to fit a robust scale and calibrate on the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from pipelines.batch_encoding import encode_batch, neighbours_needed
from pipelines.model.frozen import FrozenModel
from pipelines.model.scaler import Scaler
from pipelines.reference.build import Reference, build_reference
from pipelines.reference.search import DEFAULT_EXACT_MAX
from pipelines.scorers.base import Scorer

CALIBRATIONS = ("crossfit", "split")


@dataclass
class AssetNormal:
    reference: Reference
    calibration: np.ndarray  # float64 [n_cal]: the asset's normal scores, each against a reference without it
    scaler: Scaler | None = None  # the asset's own input scaler (None: the model's)


def held_blocks(n: int, calibration: str, folds: int, holdout: float) -> list[tuple[int, int]]:
    """[start, stop) of each held-out block of n time-ordered windows."""
    if calibration == "crossfit":
        if folds < 2:
            raise ValueError(f"crossfit calibration needs folds >= 2, got {folds}")
        edges = np.linspace(0, n, folds + 1).round().astype(int)
        return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=False) if b > a]
    if calibration == "split":
        if not 0.0 < holdout < 1.0:
            raise ValueError(f"split calibration needs 0 < holdout < 1, got {holdout}")
        start = n - max(1, int(round(n * holdout)))
        return [(start, n)]
    raise ValueError(f"unknown calibration {calibration!r}; choose from {CALIBRATIONS}")


def score_against(model: FrozenModel, reference: Reference, scorer: Scorer, X: np.ndarray) -> np.ndarray:
    enc = encode_batch(model, reference, X, neighbours_needed(reference, scorer))
    return np.asarray(scorer.score(enc, reference, model.decode).score, dtype=np.float64)


def build_asset_normal(
    model: FrozenModel,
    X_normal: np.ndarray,
    scorer: Scorer,
    *,
    k: int = 10,
    n_trees: int = 0,
    seed: int = 0,
    exact_max: int = DEFAULT_EXACT_MAX,
    search_k: int = -1,
    dedup: bool = True,
    calibration: str = "crossfit",
    folds: int = 5,
    holdout: float = 0.2,
    gap: int = 0,
    groups: np.ndarray | None = None,
    scaler: Scaler | None = None,
) -> AssetNormal:
    """The asset's reference (all its normal windows) and its out-of-reference calibration scores; with
    ``scaler`` (e.g. ``Scaler.fit`` on the asset's own normal windows) the frozen autoencoder reads the asset's
    windows through it instead of the model's scaler, and the artifact stores it with the asset."""
    if scaler is not None:
        model = model.with_scaler(scaler)
    X = model.check(np.asarray(X_normal, dtype=np.float64))
    n = len(X)
    blocks = held_blocks(n, calibration, folds, holdout)
    if gap < 0:
        raise ValueError(f"gap must be >= 0, got {gap}")
    Xs = model.scaler.transform(X)
    build = partial(
        build_reference,
        model,
        k=k,
        n_trees=n_trees,
        seed=seed,
        exact_max=exact_max,
        search_k=search_k,
        dedup=dedup,
        groups=groups,
    )
    scores = []
    for start, stop in blocks:
        keep = np.r_[0 : max(0, start - gap), min(n, stop + gap) : n]
        if calibration == "split":
            keep = keep[keep < start]
        if len(keep) <= k:
            raise ValueError(
                f"asset normal of {n} windows: the reference for held windows [{start}, {stop}) "
                f"keeps {len(keep)}, needs more than k={k} (fewer folds, a smaller gap or more windows)"
            )
        ref = build(Xs[keep], window_ids=keep)
        try:
            scores.append(score_against(model, ref, scorer, X[start:stop]))
        finally:
            ref.index.close()
    reference = build(Xs)
    return AssetNormal(reference=reference, calibration=np.concatenate(scores), scaler=scaler)
