"""Shared by the `latentwatch evaluate` command tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def tiny_snsr() -> list[str]:
    """`latentwatch evaluate` on the smallest real run (SNSR unimodal, one class, seed 0, 2 epochs, no baselines),
    less its scorers and --out; skips (visibly, -ra) without the shared data."""
    from pipelines.data import DataError, resolve_data_dir

    try:
        resolve_data_dir()
    except DataError as e:
        pytest.skip(f"real data not available: {e}")
    return [
        *("evaluate", "--datasets", "snsr", "--seeds", "0,", "--settings", "unimodal", "--max-classes", "1"),
        *("--epochs", "2", "--baselines", "none", "--quiet"),
    ]
