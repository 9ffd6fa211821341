"""Dead letters: the record as it came (bytes and key) plus headers that say why, and the guard that stops a bad
deploy from quietly dead-lettering everything.

A dead letter the broker would refuse (the original bytes plus the headers over the producer's or the topic's
record limit) is cut to fit: ``truncated: value`` (or ``key,value``) and ``original_bytes`` say so, so nothing about
one message stops the daemon and the record can still be found at its source offset."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime
from typing import Any

import numpy as np

from daemon.wire.schema import InvalidMessage
from daemon.wire.sizes import record_size


def fit_record(
    key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]], limit: int
) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    """(key, value, headers) as they are when they fit ``limit``; else the value (and a key too large to leave
    room) cut to fit, with ``truncated`` and ``original_bytes`` headers."""
    if record_size(key, value, headers) <= limit:
        return key, value, headers
    cut = ["value"]
    marks = [("truncated", b""), ("original_bytes", str(len(value or b"")).encode())]
    if key is not None and record_size(key, b"", headers + marks + [("original_key_bytes", b"0" * 20)]) > limit // 2:
        marks.append(("original_key_bytes", str(len(key)).encode()))
        key, cut = key[: max(0, limit // 8)], ["key", "value"]
    marks[0] = ("truncated", ",".join(cut).encode())
    headers = headers + marks
    room = limit - record_size(key, b"", headers) - 8  # the value's length varint can grow by a few bytes
    return key, (value or b"")[: max(0, room)], headers


class DeadLetterLimitExceeded(RuntimeError):
    """Too many dead letters: the input or the model is wrong, and a person has to look."""


def dead_letter_headers(record: Any, err: InvalidMessage, now: datetime | None = None) -> list[tuple[str, bytes]]:
    now = now or datetime.now(UTC)
    return [
        ("reason", err.reason.encode()),
        ("detail", err.detail.encode("utf-8", "replace")[:1024]),
        ("source_topic", record.topic.encode()),
        ("source_partition", str(record.partition).encode()),
        ("source_offset", str(record.offset).encode()),
        ("dead_lettered_at", now.isoformat(timespec="milliseconds").encode()),
    ]


class DeadLetterGuard:
    """Trips when more than ``max_ratio * window`` of the last ``window`` messages were dead-lettered, or when
    ``max_consecutive`` came in a row. Counting against the full window (not the messages seen so far) keeps one bad
    message at start-up from looking like a 100% rate."""

    def __init__(self, window: int, max_ratio: float, max_consecutive: int) -> None:
        self.configure(window, max_ratio, max_consecutive)
        self._recent: deque[bool] = deque(maxlen=window)
        self._bad_in_window = 0
        self.consecutive = 0

    def configure(self, window: int, max_ratio: float, max_consecutive: int) -> None:
        self.window = window
        self.max_ratio = max_ratio
        self.max_consecutive = max_consecutive
        if hasattr(self, "_recent") and self._recent.maxlen != window:
            self._recent = deque(self._recent, maxlen=window)

    def observe(self, bad: np.ndarray) -> None:
        """Record one batch's outcomes in consumption order (True = dead-lettered); raise when a limit is passed."""
        bad = np.asarray(bad, dtype=bool)
        if bad.size == 0:
            return
        self._recent.extend(bad[-self.window :].tolist())
        self._bad_in_window = sum(self._recent)
        longest = self._update_consecutive(bad)
        if self._bad_in_window > self.max_ratio * self.window:
            raise DeadLetterLimitExceeded(
                f"{self._bad_in_window} of the last {len(self._recent)} messages were dead-lettered "
                f"(limit: more than {self.max_ratio:g} of {self.window})"
            )
        if longest >= self.max_consecutive:
            raise DeadLetterLimitExceeded(
                f"{longest} messages in a row were dead-lettered (limit: {self.max_consecutive})"
            )

    def _update_consecutive(self, bad: np.ndarray) -> int:
        if bad.all():
            self.consecutive += int(bad.size)
            return self.consecutive
        good = np.flatnonzero(~bad)
        lead = int(good[0])
        gaps = np.diff(np.concatenate([good, [bad.size]])) - 1
        longest = max(self.consecutive + lead, int(gaps.max()) if gaps.size else 0)
        self.consecutive = int(bad.size - 1 - good[-1])
        return longest
