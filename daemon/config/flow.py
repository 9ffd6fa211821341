"""How windows flow in: ``batching``, the bounds a decoded window keeps (``input``) and the dead-letter guard
(``dead_letter``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from daemon.config.base import doc, require


@dataclass(frozen=True)
class BatchingConfig:
    """Micro-batches: records are collected until ``max_records`` or ``max_wait_ms``, then decoded and scored
    together."""

    max_records: int = field(default=1000, metadata=doc("windows in one batch at most"))
    max_wait_ms: int = field(default=25, metadata=doc("a batch is sent on this long after its first record"))
    max_in_flight: int = field(default=5000, metadata=doc("uncommitted windows beyond which partitions pause"))

    def check(self) -> None:
        require(self.max_records > 0, "max_records", "a positive integer")
        require(self.max_wait_ms >= 0, "max_wait_ms", "an integer >= 0")
        require(self.max_in_flight >= self.max_records, "max_in_flight", "an integer >= batching.max_records")


@dataclass(frozen=True)
class DeadLetterConfig:
    """The guard against a bad deploy: stop when too many of the last ``window`` messages, or ``max_consecutive`` in a
    row, were dead-lettered."""

    max_bytes: int = field(default=1_048_576, metadata=doc("a larger message is dead-lettered as oversized"))
    window: int = field(default=1000, metadata=doc("the last this many messages are counted"))
    max_ratio: float = field(default=0.5, metadata=doc("more than this share of them dead-lettered: exit 3"))
    max_consecutive: int = field(default=500, metadata=doc("this many dead-lettered in a row: exit 3"))

    def check(self) -> None:
        require(self.max_bytes > 0, "max_bytes", "a positive integer")
        require(self.window > 0, "window", "a positive integer")
        require(0.0 < self.max_ratio <= 1.0, "max_ratio", "a ratio in (0, 1]")
        require(self.max_consecutive > 0, "max_consecutive", "a positive integer")


@dataclass(frozen=True)
class InputConfig:
    """Bounds a decoded window must also keep, or it is dead-lettered (daemon/wire/bounds.py). ``ts`` against the
    record's broker timestamp: at most ``ts_max_ahead_s`` ahead, at most ``ts_max_behind_s`` behind (null: no bound
    on that side; the default, since replays and backfills send old windows). ``meta`` is copied whole into the
    window's alerts, so its nesting depth and its size as JSON are bounded; ``asset`` is a key and a state entry."""

    ts_max_ahead_s: float | None = field(
        default=86400.0, metadata=doc("`ts` at most this far ahead of the broker timestamp; null: no bound")
    )
    ts_max_behind_s: float | None = field(
        default=None, metadata=doc("`ts` at most this far behind it; null: no bound (replays, backfills)")
    )
    meta_max_depth: int = field(default=16, metadata=doc("nesting depth of `meta` at most"))
    meta_max_bytes: int = field(default=16384, metadata=doc("size of `meta` as JSON at most"))
    asset_max_chars: int = field(default=256, metadata=doc("length of `asset` at most"))

    def check(self) -> None:
        for name in ("ts_max_ahead_s", "ts_max_behind_s"):
            value = getattr(self, name)
            require(value is None or value >= 0, name, "a number of seconds >= 0, or null (no bound)")
        require(1 <= self.meta_max_depth <= 255, "meta_max_depth", "an integer in 1..255 (orjson writes 255)")
        require(self.meta_max_bytes > 0, "meta_max_bytes", "a positive integer")
        require(self.asset_max_chars > 0, "asset_max_chars", "a positive integer")
