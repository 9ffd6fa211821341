"""`latentwatch evaluate --scorer-params`: a scorer's hyperparameters for this evaluation, over the per-data-set
overrides of pipelines/evaluate/settings.py.

One option per scorer, repeatable, in the form of --variant-params: ``--scorer-params nln:k=10,alpha=0.5`` or
``--scorer-params rank-mean:members=[ares,nln,cance]`` (the combined score of ARES, NLN and CANCE on a cance model).
The scorer must be one the evaluation runs (``--scorers``) and accept the values (it is built once to check), so a
typo is refused before a model is trained, naming the option.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from latentwatch.commands.evaluate_params import canonical as option_parts
from latentwatch.commands.evaluate_params import parse_one, reported

OPTION = "--scorer-params"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        OPTION,
        action="append",
        default=None,
        metavar="SCORER:KEY=VALUE[,KEY=VALUE]",
        help="a scorer's hyperparameters, e.g. nln:k=10 or rank-mean:members=[ares,nln,cance] (repeatable, one "
        "scorer each; over the per-data-set overrides)",
    )


def resolve(texts: Sequence[str] | None, scorers: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The options as {scorer: params}: each scorer registered, run by this evaluation, and built with the params."""
    from pipelines.scorers import REGISTRY, make_scorer

    out: dict[str, dict[str, Any]] = {}
    for text in texts or ():
        name, params = parse_one(text, OPTION)
        if name not in REGISTRY:
            raise ValueError(f"{OPTION} {text!r}: unknown scorer {name!r}; choose from {sorted(REGISTRY)}")
        if name not in scorers:
            raise ValueError(f"{OPTION} {text!r}: {name!r} is not run here; add it to --scorers")
        if name in out:
            raise ValueError(f"{OPTION}: {name!r} given twice; put its parameters in one option")
        try:
            make_scorer(name, **params)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{OPTION} {text!r}: {e}") from None
        out[name] = params
    return out


def resolve_or_report(texts: Sequence[str] | None, scorers: Sequence[str], errors: list[str]) -> dict[str, Any]:
    return reported(resolve, texts, scorers, errors)


def canonical(texts: Sequence[str] | None) -> list[str]:
    return option_parts(texts, OPTION)
