"""What travels down the chain: the raw records of one micro-batch, their offsets, and what each step adds.

Offsets travel with the batch from the start: ``commit_offsets`` is computed from every record polled (good or bad),
so the last step commits exactly what entered the chain, never more.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from kafka.structs import TopicPartition

from daemon.windows import Windows


@dataclass(eq=False)
class Batch:
    records: Sequence[Any]  # kafka ConsumerRecord-like: topic, partition, offset, key, value, headers
    started: float = field(default_factory=time.monotonic)
    commit_offsets: dict[TopicPartition, int] = field(default_factory=dict)
    windows: Windows | None = None
    model: Any = None
    scored: Any = None  # pipelines.online.ScoredBatch
    alarms: np.ndarray | None = None
    thresholds: np.ndarray | None = None
    n_peaks: np.ndarray | None = None  # per window, the peak count its threshold was computed from
    alerts: list[tuple[bytes, bytes, str]] = field(default_factory=list)  # (key, value, event kind)
    sends: list[Any] = field(default_factory=list)  # producer futures (alerts and dead letters) of this batch
    dead_letters: int = 0

    def __post_init__(self) -> None:
        if not self.commit_offsets:
            self.commit_offsets = next_offsets(self.records)

    def __len__(self) -> int:
        return len(self.records)


def next_offsets(records: Sequence[Any]) -> dict[TopicPartition, int]:
    """Per partition, the offset to commit once every record is done: the highest offset seen plus one."""
    out: dict[TopicPartition, int] = {}
    for r in records:
        tp = TopicPartition(r.topic, r.partition)
        if r.offset + 1 > out.get(tp, -1):
            out[tp] = r.offset + 1
    return out
