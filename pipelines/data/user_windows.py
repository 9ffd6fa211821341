"""The windows read from the user's files or topic, and the one time format both accept."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from pipelines.data.tables import DataError


@dataclass(frozen=True)
class UserWindows:
    """Windows X [n, d] with their feature names; ``asset`` and ``ts_ms`` [n] where the input had them."""

    X: np.ndarray
    feature_names: list[str]
    asset: np.ndarray | None = None
    ts_ms: np.ndarray | None = None


def parse_ts(value: object, where: str) -> int:
    """Epoch ms from an integer (or integral float) or an ISO-8601 string (a time without a zone is UTC)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    if isinstance(value, datetime):
        return int((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp() * 1000)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise DataError(f"{where}: ts {text[:40]!r} is neither epoch milliseconds nor ISO-8601") from None
    return int((dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp() * 1000)
