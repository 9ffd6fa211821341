"""`latentwatch evaluate`'s options on what the model reads: --scaler, --input-norm, --reference.

--scaler and --input-norm together are the two halves of the default-scorer rule (README, "The default scorer"):
the rule compares two runs that differ only in --scaler, and --input-norm scaler restores the papers' setup, where
the scaler's output feeds the autoencoder directly.
"""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scaler",
        choices=("minmax", "zscore"),
        default=None,
        help="input scaling fitted on the training split (default: minmax; zscore = production Scaler)",
    )
    p.add_argument(
        "--input-norm",
        choices=("range", "scaler"),
        default=None,
        help="scaler (default, the papers' setup): the scaler's output straight into the model; range: rescaled "
        "to its training rows' range, so the model does not depend on --scaler",
    )
    p.add_argument(
        "--reference",
        choices=("windows", "distinct"),
        default=None,
        help="reference items: every training window (default) or identical windows collapsed into "
        "one item with a count (production; the same scores, a smaller index)",
    )


def canonical(args: argparse.Namespace) -> list[str]:
    """The options as given, in a fixed order, for the record's command line."""
    parts: list[str] = []
    for opt, val in (("--scaler", args.scaler), ("--input-norm", args.input_norm), ("--reference", args.reference)):
        if val is not None:
            parts += [opt, val]
    return parts
