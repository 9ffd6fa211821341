"""What a threshold detector accepts: the rules its parameters keep and the check of the scores it is given.

One place for each rule, so the config (``daemon.config``, ``threshold``) reports a bad key with the same words the
detector raises, instead of keeping a copy of the rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipelines import defaults as D


class InvalidParameter(ValueError):
    """A detector parameter out of range: ``name`` and what a valid value is (``expected``), so that the config names
    its key and file with the same rule (``daemon.config``: ``threshold``) instead of keeping a copy of it."""

    def __init__(self, name: str, expected: str, message: str) -> None:
        super().__init__(message)
        self.name, self.expected = name, expected


def check_params(
    q: float = D.Q,
    level: float = D.LEVEL,
    refit_every: int = D.REFIT_EVERY,
    max_shape: float = D.MAX_SHAPE,
    max_peak_ratio: float = D.MAX_PEAK_RATIO,
) -> None:
    """The rules SPOT's (and DSPOT's) parameters keep, the one place they are written: ``InvalidParameter`` on the
    first one broken."""
    if not 0.0 < q < 1.0:
        raise InvalidParameter("q", "a risk in (0, 1)", f"q must be in (0, 1), got {q}")
    if not 0.0 < level < 1.0:
        raise InvalidParameter("level", "an initial quantile level in (0, 1)", f"level must be in (0, 1), got {level}")
    if not max_shape > 0:
        raise InvalidParameter(
            "max_shape", "a positive bound on the GPD shape", f"max_shape must be > 0, got {max_shape}"
        )
    if not max_peak_ratio > D.RELEASE_PEAK_RATIO:
        raise InvalidParameter(
            "max_peak_ratio",
            f"a multiple of 1 - level above {D.RELEASE_PEAK_RATIO}",
            f"max_peak_ratio must be > {D.RELEASE_PEAK_RATIO}, got {max_peak_ratio}",
        )
    if refit_every < 1:
        raise InvalidParameter(
            "refit_every",
            "an integer >= 1 (1: refit the GPD on every new peak)",
            f"refit_every must be >= 1, got {refit_every}",
        )
    if q >= 1.0 - level:
        raise InvalidParameter(
            "q", "a risk below 1 - level", f"q={q} must be below 1 - level = {1.0 - level}: z_q would fall under t"
        )


def finite(xs: Any, what: str) -> np.ndarray:
    """A 1-D float64 copy of ``xs``; ``ValueError`` naming ``what`` and the first non-finite value."""
    arr = np.asarray(xs, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be 1-D, got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"{what} has {bad.size} non-finite value(s), first at index {bad[0]}: {arr[bad[0]]}")
    return arr
