"""The valid windows of a batch, columnar: one row per window, in the order they were consumed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class Windows:
    topic: list[str]
    partition: np.ndarray  # int32 [B]
    offset: np.ndarray  # int64 [B]
    key: list[bytes | None]
    asset: list[str]
    ts_ms: np.ndarray  # int64 [B], epoch milliseconds (UTC)
    values: np.ndarray  # float32 [B, d]
    meta: list[dict[str, Any] | None]

    def __len__(self) -> int:
        return int(self.offset.shape[0])
