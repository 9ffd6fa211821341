"""Which sensors drive a window's score: how much of its reconstruction error a repair of one sensor removes, beyond
what the same repair removes from its reference neighbours.

For a window x (in the model's scaled space), its squared reconstruction error E(x) = ||x - AE(x)||^2 and its k
latent neighbours N(x) in the reference it was scored against, channel c (the features of one sensor: 'ch:stat'
or 'ch[k]' names from ``pipelines.data.windowing.window_feature_names``; a feature without a channel is its own
group), and x[c := 0] the window with channel c's features set to the scaler's centre (z-score, the default: each
feature's training mean; an asset with its own scaler: that asset's mean):

    gain_c(x) = E(x) - E(x[c := 0])                          what repairing c alone removes
    excess_c  = max(0, gain_c(x) - median over n in N(x) of gain_c(x^_n))
    share_c   = excess_c / sum over c' of excess_c'

x^_n = AE's decoding of neighbour n's latent, a normal window at the neighbour's operating point; its gain says what
setting c to its centre costs or saves there anyway (a sensor far from its mean at this operating point gains
nothing, or loses, by the repair; one the model reconstructs poorly everywhere gains a little), and is computed
once per reference from its latents (``item_gains``), so every reference, old artifacts' too, has it. Why a
counterfactual rather than channel c's own error: the autoencoder partly follows a faulty sensor and distorts the
sensors it couples with (a stuck Voltage raises Current's error, not its own), and repairing the faulty sensor
removes both. A window with no excess anywhere gets the shares of its positive gains, and one with no positive
gain those of its per-channel errors E_c = sum over j in c of (x_j - AE(x)_j)^2. Cost per batch: one encode of
G x B repaired copies and a [B, k, G] gather and median.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from pipelines.reference.build import group_sums

TOP = 3  # sensors listed per alert
_CHANNEL = re.compile(r"^(?P<ch>.+?)(?::[^:\[\]]+|\[\d+\])$")


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


def item_gains(reference: Any, model: Autoencoder, groups: np.ndarray) -> np.ndarray:
    """float32 [n, G]: gain_c of each reference item's decoded latent; computed on first use, kept on the
    reference (``explain_gain``) for the groups it was computed with."""
    cached = getattr(reference, "explain_gain", None)
    if cached is not None and cached[0] is groups:
        return np.asarray(cached[1])
    parts = []
    for s in range(0, len(reference.latents), 16384):
        xr = np.asarray(model.decode(reference.latents[s : s + 16384]), dtype=np.float32)
        parts.append(repair_gains(model, xr, groups).astype(np.float32))
    G = int(groups.max()) + 1
    gains = np.concatenate(parts) if parts else np.zeros((0, G), dtype=np.float32)
    reference.explain_gain = (groups, gains)
    return gains


def neighbour_gains(reference: Any, model: Autoencoder, groups: np.ndarray, nbr_idx: np.ndarray, k: int) -> np.ndarray:
    """float64 [B, G]: the median over each window's first k neighbours of their items' gains."""
    gains = item_gains(reference, model, groups)
    return np.asarray(np.median(gains[nbr_idx[:, :k]], axis=1), dtype=np.float64)


def shares(gain: np.ndarray, base: np.ndarray, err: np.ndarray) -> np.ndarray:
    """float64 [B, G]: each window's share of each group from its gains, its neighbours' gains and its per-group
    errors (rows sum to 1; all zero only for a perfectly reconstructed window)."""
    out = np.maximum(0.0, np.asarray(gain, dtype=np.float64) - base)
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
