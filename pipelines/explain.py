"""Which sensors drive a window's score: how much of its reconstruction error a repair of one sensor removes, beyond
what the same repair removes from its reference neighbours, plus the within-window variation it lacks.

For a window x (in the model's scaled space), its squared reconstruction error E(x) = ||x - AE(x)||^2 and its k
latent neighbours N(x) in the reference it was scored against, channel c (the features of one sensor: 'ch:stat'
or 'ch[k]' names from ``pipelines.data.windowing.window_feature_names``; a feature without a channel is its own
group), and x[c := 0] the window with channel c's features set to the scaler's centre (z-score, the default: each
feature's training mean; an asset with its own scaler: that asset's mean):

    gain_c(x)   = E(x) - E(x[c := 0])                        what repairing c alone removes
    spread_c(x) = x's 'c:std' feature (summary windows), sqrt(sum over c's positions j of (x_j - their mean)^2)
                  (flatten windows), 0 for a feature outside a window
    deficit_c   = max(0, median over n in N(x) of spread_c(x^_n) - spread_c(x))
    excess_c    = max(0, gain_c(x) - median over n in N(x) of gain_c(x^_n)) + deficit_c^2
    share_c     = excess_c / sum over c' of excess_c'

x^_n = AE's decoding of neighbour n's latent, a normal window at the neighbour's operating point; its gain says what
setting c to its centre costs or saves there anyway (a sensor far from its mean at this operating point gains
nothing, or loses, by the repair; one the model reconstructs poorly everywhere gains a little). Both its gains and
its spreads are computed once per reference from its latents (``item_stats``), so every reference, old artifacts'
too, has them. Why a counterfactual rather than channel c's own error: the autoencoder partly follows a faulty
sensor and distorts the sensors it couples with (a stuck Voltage raises Current's error, not its own), and
repairing the faulty sensor removes both. Why the deficit: a stuck sensor's values are normal ones, only their
variation is gone, and the autoencoder reconstructs some of it back, so its gain alone is often smaller than that
of a sensor this asset shows off its training normal anyway; deficit_c^2 is in the error's units (the squared
error of the spread feature against the neighbours', or the variation missing over c's positions), and a step or
a drift, which keep the variation, add nothing. A window with no excess anywhere gets the shares of its positive
gains, and one with no positive gain those of its per-channel errors E_c = sum over j in c of (x_j - AE(x)_j)^2.
Cost per batch: one encode of G x B repaired copies and a [B, k, 2G] gather and median.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from pipelines.reference.build import group_sums

TOP = 3  # sensors listed per alert
_CHANNEL = re.compile(r"^(?P<ch>.+?)(?::[^:\[\]]+|\[\d+\])$")
_POSITION = re.compile(r"^.+?\[\d+\]$")


class Autoencoder(Protocol):
    def encode_scaled(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...

    def decode(self, Z: np.ndarray) -> np.ndarray: ...


def feature_groups(names: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """(group names in first-seen order, group of each feature int64 [d]) from window feature names."""
    groups: dict[str, int] = {}
    of = np.empty(len(names), dtype=np.int64)
    for j, name in enumerate(names):
        m = _CHANNEL.match(name)
        of[j] = groups.setdefault(m.group("ch") if m else name, len(groups))
    return list(groups), of


def repair_gains(model: Autoencoder, Xs: np.ndarray, groups: np.ndarray, err: np.ndarray | None = None) -> np.ndarray:
    """float64 [B, G]: gain_c = E(x) - E(x with channel c's features at 0), every channel in one encode call."""
    Xs = np.asarray(Xs, dtype=np.float32)
    B, G = len(Xs), int(groups.max()) + 1
    if err is None:
        err = model.encode_scaled(Xs)[2]
    keep = (groups[None, :] != np.arange(G)[:, None]).astype(np.float32)  # [G, d]
    repaired = (Xs[None, :, :] * keep[:, None, :]).reshape(G * B, -1)
    after = np.asarray(model.encode_scaled(repaired)[2], dtype=np.float64).reshape(G, B).T
    return np.asarray(err, dtype=np.float64)[:, None] - after


@dataclass(frozen=True)
class Spread:
    """Where each group's within-window spread is read from the features (``spreads``)."""

    std_col: np.ndarray  # int64 [G]: the column of the group's ':std' feature (summary windows), -1: none
    positional: np.ndarray  # bool [G]: the group is one channel's positions 'ch[k]' (flatten windows)


def spread_plan(names: Sequence[str], groups: np.ndarray) -> Spread:
    """Each group's spread source from the feature names: a summary channel's ':std' feature, a flatten channel's
    positions (two or more); other groups (non-windowed features) have none, and their spread is 0."""
    if len(names) != len(groups):
        raise ValueError(f"spread_plan: {len(names)} feature names for {len(groups)} grouped features")
    G = int(groups.max()) + 1 if len(groups) else 0
    std_col, positions = np.full(G, -1, dtype=np.int64), np.zeros(G, dtype=np.int64)
    for j, name in enumerate(names):
        if name.endswith(":std") and _CHANNEL.match(name):
            std_col[groups[j]] = j
        elif _POSITION.match(name):
            positions[groups[j]] += 1
    return Spread(std_col, (positions >= 2) & (std_col < 0))


def spreads(Xs: np.ndarray, groups: np.ndarray, plan: Spread) -> np.ndarray:
    """float64 [B, G]: each group's within-window spread in scaled units: its ':std' feature, or for positions
    the root of their squared deviations from their mean; 0 for a group without either."""
    Xs = np.asarray(Xs, dtype=np.float64)
    out = np.zeros((len(Xs), len(plan.std_col)))
    has = plan.std_col >= 0
    out[:, has] = Xs[:, plan.std_col[has]]
    if plan.positional.any():
        n = np.bincount(groups, minlength=len(plan.std_col)).astype(np.float64)
        s1, s2 = group_sums(Xs, groups).astype(np.float64), group_sums(Xs**2, groups).astype(np.float64)
        dev = np.sqrt(np.maximum(0.0, s2 - s1**2 / np.maximum(n, 1.0)))
        out[:, plan.positional] = dev[:, plan.positional]
    return out


def item_stats(reference: Any, model: Autoencoder, groups: np.ndarray, plan: Spread) -> np.ndarray:
    """float32 [n, 2G]: each reference item's decoded latent's gains, then its spreads; computed on first use,
    kept on the reference (``explain_gain``) for the groups (and their names' plan) it was computed with."""
    cached = getattr(reference, "explain_gain", None)
    if cached is not None and cached[0] is groups:
        return np.asarray(cached[1])
    parts = []
    for s in range(0, len(reference.latents), 16384):
        xr = np.asarray(model.decode(reference.latents[s : s + 16384]), dtype=np.float32)
        parts.append(np.hstack([repair_gains(model, xr, groups), spreads(xr, groups, plan)]).astype(np.float32))
    G = int(groups.max()) + 1
    stats = np.concatenate(parts) if parts else np.zeros((0, 2 * G), dtype=np.float32)
    reference.explain_gain = (groups, stats)
    return stats


def neighbour_stats(
    reference: Any, model: Autoencoder, groups: np.ndarray, plan: Spread, nbr_idx: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """float64 [B, G] twice: the medians over each window's first k neighbours of their items' gains and spreads."""
    med = np.median(item_stats(reference, model, groups, plan)[nbr_idx[:, :k]], axis=1).astype(np.float64)
    G = med.shape[1] // 2
    return med[:, :G], med[:, G:]


def shares(gain: np.ndarray, base: np.ndarray, err: np.ndarray, deficit: np.ndarray | None = None) -> np.ndarray:
    """float64 [B, G]: each window's share of each group from its gains, its neighbours' gains, its spread
    deficit (``deficit``: max(0, neighbours' spread - own), None: 0) and its per-group errors (rows sum to 1; all
    zero only for a perfectly reconstructed window)."""
    out = np.maximum(0.0, np.asarray(gain, dtype=np.float64) - base)
    if deficit is not None:
        out += np.asarray(deficit, dtype=np.float64) ** 2
    for fallback in (np.maximum(0.0, gain), np.asarray(err, dtype=np.float64)):
        none = out.sum(axis=1) <= 0
        if not none.any():
            break
        out[none] = fallback[none]
    total = out.sum(axis=1, keepdims=True)
    share: np.ndarray = np.divide(out, total, out=np.zeros_like(out), where=total > 0)
    return share


def channel_errors(x: np.ndarray, xhat: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """float64 [B, G]: squared reconstruction error summed per group."""
    return group_sums((np.asarray(x, dtype=np.float32) - xhat) ** 2, groups).astype(np.float64)


def top(share: np.ndarray, m: int = TOP) -> tuple[np.ndarray, np.ndarray]:
    """The m largest groups of each row: (group index int64 [B, m], share float64 [B, m]), largest first."""
    m = min(m, share.shape[1])
    idx = np.argsort(-share, axis=1, kind="stable")[:, :m]
    return idx, np.take_along_axis(share, idx, axis=1)
