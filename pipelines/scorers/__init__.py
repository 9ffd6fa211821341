"""Scorer registry: one module per scorer, one interface (`pipelines.scorers.base.Scorer`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pipelines.scorers.ares import ARES
from pipelines.scorers.ares_rank import ARESRank
from pipelines.scorers.base import Encoded, Scorer, ScoreResult
from pipelines.scorers.cance import CANCEScore
from pipelines.scorers.combined import RankMean
from pipelines.scorers.deae_mlp import DeAEMLP
from pipelines.scorers.knn_latent import KNNLatent
from pipelines.scorers.lfr import LFRScore
from pipelines.scorers.lof_latent import LOFLatent
from pipelines.scorers.nln import NLN
from pipelines.scorers.recon import Recon
from pipelines.scorers.vae import VAEScore

# name -> (class, fixed hyperparameters); user params override the fixed ones.
REGISTRY: dict[str, tuple[type[Scorer], dict[str, Any]]] = {
    "recon": (Recon, {}),
    "ares": (ARES, {}),
    "ares-cal": (ARES, {"calibrated": True}),
    "ares-rank": (ARESRank, {}),
    "ares-knn": (ARES, {"density": "knn"}),
    "nln": (NLN, {}),
    "knn-latent": (KNNLatent, {}),
    "lof-latent": (LOFLatent, {}),
    "deae-mlp": (DeAEMLP, {}),  # the DeAE + MLP poster's |e - e'|; needs a model of the deae training variant
    "lfr": (LFRScore, {}),  # AE-LFR's S_B; needs a model of an LFR training variant
    "vae-elbo": (VAEScore, {}),  # the negated ELBO; needs a model of the vae training variant
    "vae-recon-prob": (VAEScore, {"score": "recon-prob"}),
    "cance": (CANCEScore, {}),  # CANCE's -(G(c) + log p_n(c)); needs a model of the cance training variant
    "cnce": (CANCEScore, {"head": "cnce"}),  # the same network trained without eq. 8's augmentation
    "latnce": (CANCEScore, {"head": "latnce"}),  # on the latent z alone (Table 1's LatNCE)
    "rank-mean": (RankMean, {}),  # the mean of member scorers' ranks on validation normals (default ares-cal, nln)
}


def can_score(name: str, variants: Iterable[str]) -> bool:
    """Whether the registered scorer ``name`` can score a model of one of these training variants
    (``Scorer.variants``; None: every one)."""
    allowed = REGISTRY[name][0].variants
    return allowed is None or bool(set(allowed) & set(variants))


def make_scorer(name: str, **params: Any) -> Scorer:
    if name not in REGISTRY:
        raise ValueError(f"unknown scorer {name!r}; choose from {sorted(REGISTRY)}")
    cls, fixed = REGISTRY[name]
    scorer = cls(**{**fixed, **params})
    scorer.name = name
    return scorer


__all__ = ["REGISTRY", "Encoded", "ScoreResult", "Scorer", "can_score", "make_scorer"]
