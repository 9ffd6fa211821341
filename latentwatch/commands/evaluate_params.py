"""`latentwatch evaluate --variant-params`: a training variant's hyperparameters (its ``TrainSpec.variant_params``).

One option per variant, repeatable: ``--variant-params vae:beta=0.1 --variant-params deae:noise=0,lambda2=0``. Each
value is read as a YAML scalar or flow list (``0.1``, ``null``, ``B``, ``[32, 16]``). The variant must be one the
evaluation trains (``--variants``), each name one of its constructor's parameters, and the values ones it accepts;
anything else is refused before a model is trained, naming the option and what is wrong with it.
"""

from __future__ import annotations

import argparse
import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any

import yaml

# a comma starts a new key=value pair unless it is inside [...] (a list value)
_PAIR = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\[[^\]]*\]|[^,\[]*)\s*(?:,|$)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--variant-params",
        action="append",
        default=None,
        metavar="VARIANT:KEY=VALUE[,KEY=VALUE]",
        help="a training variant's hyperparameters, e.g. vae:beta=0.1 or deae:noise=0,lambda2=0 (repeatable, one "
        "variant each; pipelines/model/variants.py lists them)",
    )


def parse_one(text: str, option: str = "--variant-params") -> tuple[str, dict[str, Any]]:
    """'vae:beta=0.1' -> ('vae', {'beta': 0.1}); a ValueError names ``option`` and what is malformed."""
    variant, sep, rest = text.partition(":")
    variant = variant.strip()
    if not sep or not variant or not rest.strip():
        raise ValueError(f"{option} {text!r}: expected NAME:KEY=VALUE[,KEY=VALUE], e.g. vae:beta=0.1")
    params: dict[str, Any] = {}
    pos, rest = 0, rest.strip()
    while pos < len(rest):
        m = _PAIR.match(rest, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"{option} {text!r}: cannot read {rest[pos:]!r} as KEY=VALUE")
        key, raw = m.group(1), m.group(2).strip()
        if key in params:
            raise ValueError(f"{option} {text!r}: {key!r} given twice")
        try:
            params[key] = yaml.safe_load(raw) if raw else None
        except yaml.YAMLError as e:
            raise ValueError(f"{option} {text!r}: {key}={raw!r} is not a value: {e}") from None
        pos = m.end()
    return variant, params


def _parameters(cls: type) -> list[str]:
    """The keyword parameters of a variant class's constructor (none for the plain autoencoder's)."""
    if cls.__init__ is object.__init__:
        return []
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    sig = inspect.signature(cls.__init__)
    return [n for n, q in sig.parameters.items() if n != "self" and q.kind in kinds]


def resolve(texts: Sequence[str] | None, variants: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The options as {variant: params}, each checked against the variant registry: the variant is registered and
    trained by this evaluation, every key is a parameter of it, and the variant accepts the values."""
    from pipelines.model.variants import REGISTRY, make_variant

    out: dict[str, dict[str, Any]] = {}
    for text in texts or ():
        variant, params = parse_one(text)
        if variant not in REGISTRY:
            raise ValueError(
                f"--variant-params {text!r}: unknown training variant {variant!r}; choose from {sorted(REGISTRY)}"
            )
        if variant not in variants:
            raise ValueError(f"--variant-params {text!r}: {variant!r} is not trained here; add it to --variants")
        if variant in out:
            raise ValueError(f"--variant-params: {variant!r} given twice; put its parameters in one option")
        known = _parameters(REGISTRY[variant][0])
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ValueError(
                f"--variant-params {text!r}: {variant!r} has no parameter {', '.join(map(repr, unknown))}; its "
                f"parameters: {', '.join(known) or 'none'}"
            )
        try:
            make_variant(variant, **params)
        except ValueError as e:
            raise ValueError(f"--variant-params {text!r}: {e}") from None
        out[variant] = params
    return out


def reported(
    resolver: Callable[[Sequence[str] | None, Sequence[str]], dict[str, dict[str, Any]]],
    texts: Sequence[str] | None,
    names: Sequence[str],
    errors: list[str],
) -> dict[str, Any]:
    """``resolver(texts, names)``, its error appended to ``errors`` (and {} returned) instead of raised, so that the
    command reports every bad option at once (this module's ``resolve``, or --scorer-params')."""
    try:
        return resolver(texts, names)
    except ValueError as e:
        errors.append(str(e))
        return {}


def resolve_or_report(texts: Sequence[str] | None, variants: Sequence[str], errors: list[str]) -> dict[str, Any]:
    return reported(resolve, texts, variants, errors)


def canonical(texts: Sequence[str] | None, option: str = "--variant-params") -> list[str]:
    return [part for text in texts or () for part in (option, text)]
