"""Which sensors drive a window's score: per-channel reconstruction error beyond what its reference neighbours show.

For a window x with reconstruction x^ (both in the model's scaled space) and its k latent neighbours N(x) in the
reference it was scored against, channel c (the features of one sensor: 'ch:stat' or 'ch[k]' names from
``pipelines.data.windowing.window_feature_names``; a feature without a channel is its own group):

    E_c(x)   = sum over features j of c of (x_j - x^_j)^2
    excess_c = max(0, E_c(x) - median over n in N(x) of E_c(n))
    share_c  = excess_c / sum over c' of excess_c'

E_c(n) is stored per reference item (``Reference.group_err``), so the median is what the window's own normal
neighbours show on that sensor: a sensor the model always reconstructs badly at this operating point does not
crowd out the one that moved. A window with no excess anywhere (not anomalous by this measure) gets
share_c = E_c / sum E_c; a reference without stored per-group errors (artifacts from before) gets median 0.
Vectorised over the batch: one [B, k, G] gather and median.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from pipelines.reference.build import Reference, group_sums

TOP = 3  # sensors listed per alert
_CHANNEL = re.compile(r"^(?P<ch>.+?)(?::[^:\[\]]+|\[\d+\])$")


def feature_groups(names: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """(group names in first-seen order, group of each feature int64 [d]) from window feature names."""
    groups: dict[str, int] = {}
    of = np.empty(len(names), dtype=np.int64)
    for j, name in enumerate(names):
        m = _CHANNEL.match(name)
        of[j] = groups.setdefault(m.group("ch") if m else name, len(groups))
    return list(groups), of


def shares(x: np.ndarray, xhat: np.ndarray, nbr_idx: np.ndarray, reference: Reference, groups: np.ndarray,
           k: int) -> np.ndarray:
    """float64 [B, G]: each window's share of each group (rows sum to 1; all zero only for a perfect window)."""
    G = int(groups.max()) + 1
    E = group_sums((np.asarray(x, dtype=np.float32) - xhat) ** 2, groups).astype(np.float64)
    base = np.zeros_like(E)
    if reference.group_err is not None and len(E):
        cols = np.zeros(reference.group_err.shape[1], dtype=np.int64)
        cols[reference.err_groups] = groups  # each stored column lies inside one channel
        nbr = reference.group_err[nbr_idx[:, :k]]  # [B, k, G'] float32
        if reference.group_err.shape[1] != G or not np.array_equal(cols, np.arange(G)):
            nbr = group_sums(nbr.reshape(-1, nbr.shape[-1]), cols).reshape(len(E), -1, G)
        base = np.median(nbr, axis=1).astype(np.float64)
    excess = np.maximum(0.0, E - base)
    total = excess.sum(axis=1, keepdims=True)
    none = total[:, 0] <= 0
    if none.any():
        excess[none], total[none] = E[none], E[none].sum(axis=1, keepdims=True)
    return np.divide(excess, total, out=np.zeros_like(excess), where=total > 0)


def top(share: np.ndarray, m: int = TOP) -> tuple[np.ndarray, np.ndarray]:
    """The m largest groups of each row: (group index int64 [B, m], share float64 [B, m]), largest first."""
    m = min(m, share.shape[1])
    idx = np.argsort(-share, axis=1, kind="stable")[:, :m]
    return idx, np.take_along_axis(share, idx, axis=1)
