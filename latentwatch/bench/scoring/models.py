"""Which models `latentwatch bench scoring` trains and which model each timed scorer runs on.

A scorer that needs a training variant's outputs (``Scorer.variants``: lfr, vae-elbo, deae-mlp, ...) is timed on a
model of that variant; every other scorer on the plain autoencoder ("ae"), the model ARES is timed on. Both lists
come from the registries (``pipelines.scorers.REGISTRY``, ``pipelines.model.variants.REGISTRY``), so a scorer or
variant registered later is timed without a change here. A ``--scorers`` entry may also name the model itself,
``<variant>:<scorer>`` (e.g. ``vae:ares``: ARES on the VAE's latent means).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

PRIMARY = "ae"  # the model ARES (the ratios' denominator) and the peers run on


@dataclass(frozen=True)
class Timed:
    label: str  # the row's name in the table: the scorer's, or "<variant>:<scorer>" when named so
    variant: str
    scorer: str


def registered_scorers() -> tuple[str, ...]:
    from pipelines.scorers import REGISTRY

    return tuple(REGISTRY)


def _allowed(scorer: str) -> tuple[str, ...] | None:
    from pipelines.scorers import REGISTRY

    return REGISTRY[scorer][0].variants


def _runs_on(scorer: str, variants: Sequence[str] | None) -> bool:
    from pipelines.scorers import can_score

    return variants is None or can_score(scorer, variants)


def plan(scorers: Sequence[str] | None, variants: Sequence[str] | None) -> tuple[list[str], list[Timed]]:
    """(the variants to train, primary first; each timed scorer with its model).

    scorers None: every registered scorer that a model of ``variants`` can run (all of them when variants is None
    too). variants None: the ones the scorers need. A clear error names a scorer or variant that is unknown, or a
    scorer that no model of the given variants can score."""
    from pipelines.model.variants import REGISTRY as VARIANTS
    from pipelines.scorers import REGISTRY as SCORERS

    if variants is not None:
        bad = [v for v in variants if v not in VARIANTS]
        if bad or not variants:
            raise ValueError(f"--variants: unknown training variant(s) {bad}; choose from {sorted(VARIANTS)}")
    if scorers is None:
        scorers = [n for n in SCORERS if _runs_on(n, variants)]
    timed: list[Timed] = []
    for entry in scorers:
        variant, _, name = entry.rpartition(":")
        if name not in SCORERS:
            raise ValueError(f"--scorers: unknown scorer {name!r} in {entry!r}; choose from {sorted(SCORERS)}")
        allowed = _allowed(name)
        if variant:
            if variant not in VARIANTS:
                raise ValueError(f"--scorers: unknown training variant {variant!r} in {entry!r}")
            if allowed is not None and variant not in allowed:
                raise ValueError(f"--scorers: {name!r} scores models of {list(allowed)}, not {variant!r} ({entry!r})")
            if variants is not None and variant not in variants:
                raise ValueError(f"--scorers: {entry!r} needs variant {variant!r}: add it to --variants")
        elif allowed is None:
            variant = PRIMARY
        else:
            usable = [v for v in allowed if variants is None or v in variants]
            if not usable:
                raise ValueError(
                    f"--scorers: {name!r} needs a model of training variant {' or '.join(allowed)}: add one to "
                    f"--variants (given: {','.join(variants or ())})"
                )
            variant = usable[0]
        timed.append(Timed(entry, variant, name))
    if not timed:  # peers only: they run on the first model
        return list(variants or [PRIMARY]), []
    needed = list(dict.fromkeys(t.variant for t in timed))
    train = list(dict.fromkeys([*(variants or ()), *needed]))  # "ae" comes in whenever a scorer runs on it
    if PRIMARY in train:
        train.remove(PRIMARY)
        train.insert(0, PRIMARY)
    unused = [v for v in train if v not in needed]
    if unused:
        raise ValueError(f"--variants: no timed scorer runs on {unused}; drop them or add their scorers to --scorers")
    return train, timed


def train_models(cfg: Any, source: Any, variants: Sequence[str]) -> dict[str, tuple[Any, dict[str, Any]]]:
    """One model per variant, all on the same training and validation windows with the same spec otherwise:
    variant -> (FrozenModel, its training metrics)."""
    from pipelines.fit import TrainSpec, fit_bundle

    rng = np.random.default_rng([cfg.seed, 0])
    X_train = source.normal(cfg.train_rows, rng)
    X_val = source.normal(max(200, cfg.train_rows // 4), rng)
    out = {}
    for v in variants:
        spec = TrainSpec(
            epochs=cfg.epochs,
            patience=cfg.epochs,
            latent=cfg.latent,
            k=cfg.k,
            n_trees=cfg.n_trees,
            search_k=cfg.search_k,
            device="cpu",
            variant=v,
        )
        bundle = fit_bundle(X_train, X_val, spec, seed=cfg.seed, progress=False)
        bundle.reference.index.close()  # each size builds its own reference
        out[v] = (bundle.model, bundle.metrics)
    return out
