"""Sending a plan to a topic: pacing, the producer's settings, delivery reports counted into a ``ReplayReport``."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from latentwatch.replay.messages import BAD_KINDS, ENCODINGS, bad_message, serialize_window, usable_bad_kinds
from latentwatch.replay.plan import Plan


@dataclass
class Sent:
    """One acknowledged message (kept only when ``replay(record=True)``)."""

    partition: int
    offset: int
    key: bytes
    value: bytes
    kind: str  # "window" or the dead-letter reason it was made for


@dataclass
class ReplayReport:
    topic: str
    windows: int = 0  # good windows handed to the producer
    bad: Counter = field(default_factory=Counter)  # injected bad messages, by reason
    acked: int = 0
    errors: int = 0
    first_error: str | None = None
    seconds: float = 0.0
    interrupted: bool = False
    partitions: Counter = field(default_factory=Counter)
    sent: list[Sent] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return self.windows + sum(self.bad.values())

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "messages": self.messages,
            "windows": self.windows,
            "bad": dict(sorted(self.bad.items())),
            "acked": self.acked,
            "errors": self.errors,
            "first_error": self.first_error,
            "seconds": round(self.seconds, 3),
            "rate": round(self.rate, 1),
            "partitions": {str(p): n for p, n in sorted(self.partitions.items())},
            "interrupted": self.interrupted,
            "notes": self.notes,
        }


class Pacer:
    """Hold a target rate (messages/s) from the start, sleeping only when ahead by more than ``slack_s``."""

    def __init__(
        self,
        rate: float | None,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], None] = time.sleep,
        slack_s: float = 0.002,
    ) -> None:
        if rate is not None and not (rate > 0 and math.isfinite(rate)):
            raise ValueError(f"rate must be a positive number of windows per second, got {rate}")
        self.rate, self.clock, self.sleep, self.slack_s = rate, clock, sleep, slack_s
        self.start = clock()

    def wait(self, sent: int) -> None:
        if self.rate is None:
            return
        ahead = self.start + sent / self.rate - self.clock()
        if ahead > self.slack_s:
            self.sleep(ahead)


def producer_settings(
    bootstrap: Sequence[str],
    client_kwargs: dict[str, Any] | None = None,
    linger_ms: int = 20,
    batch_size: int = 262_144,
) -> dict[str, Any]:
    return {
        "bootstrap_servers": list(bootstrap),
        "client_id": "latentwatch-replay",
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": linger_ms,
        "batch_size": batch_size,
        "max_request_size": 1_048_576 + 65_536,
        **(client_kwargs or {}),
    }


def _key_partitions(producer: Any, topic: str) -> Callable[[bytes], int | None]:
    """The partition of each key, as the producer's default partitioner (murmur2, like the Java client) would choose
    it, computed once per asset instead of once per message. Any other partitioner decides per message itself."""
    from kafka.partitioner.default import DefaultPartitioner, murmur2

    config = getattr(producer, "config", None)
    if not isinstance(config, dict) or not isinstance(config.get("partitioner"), DefaultPartitioner):
        return lambda key: None
    partitions = sorted(producer.partitions_for(topic))
    cache: dict[bytes, int] = {}

    def partition_of(key: bytes) -> int:
        p = cache.get(key)
        if p is None:
            p = cache[key] = partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]
        return p

    return partition_of


def replay(
    producer: Any,
    topic: str,
    plan: Plan,
    *,
    rate: float | None = None,
    limit: int | None = None,
    loop: bool = False,
    inject_bad: float = 0.0,
    bad_kinds: Sequence[str] = BAD_KINDS,
    max_bytes: int | None = None,
    seed: int = 0,
    record: bool = False,
    stop: threading.Event | None = None,
    flush_timeout_s: float = 120.0,
    progress: Callable[[ReplayReport], None] | None = None,
    progress_every_s: float = 10.0,
    encoding: str = "json",
) -> ReplayReport:
    """Send ``plan``'s windows (``limit`` of them at most; forever with ``loop`` and no limit) to ``topic``.

    ``producer`` is a kafka-python ``KafkaProducer`` (idempotent, acks=all: see ``producer_settings``). Returns once
    everything sent is acknowledged or failed (or ``flush_timeout_s`` passed); ``stop`` ends the replay early.
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
    if not 0.0 <= inject_bad <= 1.0:
        raise ValueError(f"inject_bad must be a fraction in [0, 1], got {inject_bad}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    if loop and not len(plan):
        raise ValueError("nothing to loop over: the plan has no windows")
    kinds, note = usable_bad_kinds(bad_kinds, max_bytes) if inject_bad > 0 else ((), None)
    if inject_bad > 0 and not kinds:
        raise ValueError("inject_bad is set but no dead-letter kind can be produced")
    report = ReplayReport(topic=topic)
    if note:
        report.notes.append(note)
    rng = np.random.default_rng(seed)
    lock = threading.Lock()
    pacer = Pacer(rate)
    t0 = time.perf_counter()
    next_progress = t0 + progress_every_s

    def on_ok(key: bytes, value: bytes, kind: str, md: Any) -> None:
        with lock:
            report.acked += 1
            report.partitions[md.partition] += 1
            if record:
                report.sent.append(Sent(md.partition, md.offset, key, value, kind))

    def on_err(exc: BaseException) -> None:
        with lock:
            report.errors += 1
            report.first_error = report.first_error or repr(exc)

    partition_of = _key_partitions(producer, topic)

    def send(key: bytes, value: bytes, kind: str) -> None:
        pacer.wait(report.messages)
        fut = producer.send(topic, key=key, value=value, partition=partition_of(key))
        fut.add_callback(lambda md: on_ok(key, value, kind, md) if record else on_ok(key, b"", kind, md))
        fut.add_errback(on_err)

    n_kinds, bad_i = len(kinds), 0
    draws = iter(())
    try:
        for w in plan.windows(loop):
            if limit is not None and report.windows >= limit:
                break
            if stop is not None and stop.is_set():
                report.interrupted = True
                break
            key = w.asset.encode()
            send(key, serialize_window(w, plan.source, encoding), "window")
            report.windows += 1
            if n_kinds:
                try:
                    draw = next(draws)
                except StopIteration:
                    draws = iter(rng.random(4096).tolist())
                    draw = next(draws)
                if draw < inject_bad:
                    kind = kinds[bad_i % n_kinds]
                    bad_i += 1
                    send(key, bad_message(kind, w, plan.source, None if max_bytes is None else max_bytes + 1), kind)
                    report.bad[kind] += 1
            if progress is not None and time.perf_counter() >= next_progress:
                report.seconds = time.perf_counter() - t0
                progress(report)
                next_progress += progress_every_s
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        try:
            producer.flush(timeout=flush_timeout_s)
        except Exception as e:  # a flush that times out leaves the unacknowledged ones counted as errors below
            report.first_error = report.first_error or repr(e)
        report.seconds = time.perf_counter() - t0
        with lock:
            missing = report.messages - report.acked - report.errors
            if missing > 0:
                report.errors += missing
                report.first_error = report.first_error or f"{missing} sends not acknowledged after the flush"
    if record:
        report.sent.sort(key=lambda s: (s.partition, s.offset))
    return report
