"""Replay a data set into the input topic as windows, in the daemon's input format.

The windows come from ``pipelines.sources.streams``, the code training uses, with the ``WindowSpec`` the model was
trained with (read from an artifact's manifest, or given). Assets are merged by window end time, ties broken by asset
order, so each asset's windows keep their order; every message is keyed by its asset, so an asset stays in one
partition and the daemon sees its windows in order. One message::

    key   b"skab/valve1/0"
    value {"schema": 1, "asset": "skab/valve1/0", "ts": 1583748882000, "values": [0.0123, ...],
           "meta": {"source": "skab", "label": 0, "index": 0}}

``meta.label`` (1 anomalous, 0 normal) and ``meta.index`` (the window's position in its asset's stream) travel with
the window into the alerts, so a run can be compared offline with the labels. With ``loop`` the data set repeats and
every pass shifts the time stamps past the previous pass (``meta.loop`` counts passes), so time never runs backwards.

``inject_bad`` adds, after a good window and with that probability, one message that the daemon must dead-letter, one
class after another (``BAD_KINDS``, named like ``daemon.wire.schema.Reason``), keyed by the same asset.

The producer is idempotent with ``acks=all``; sends are batched (``linger_ms``) and counted by delivery callbacks;
``replay`` flushes at the end and reports what was acknowledged.
"""
from __future__ import annotations

import fnmatch
import json
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import orjson

from daemon.wire.binary_codec import serialize_binary
from daemon.wire.json_codec import serialize_json
from daemon.wire.schema import SCHEMA_VERSION, Reason

# The dead-letter classes a replay can produce, in the order they are injected.
BAD_KINDS: tuple[str, ...] = (Reason.MALFORMED_JSON, Reason.NOT_UTF8, Reason.MISSING_FIELD, Reason.INVALID_FIELD,
                              Reason.WRONG_LENGTH, Reason.NON_FINITE, Reason.NON_NUMERIC, Reason.UNKNOWN_SCHEMA,
                              Reason.OVERSIZED)
# A Kafka record value above about this many bytes is refused by a default broker (message.max.bytes ~ 1 MiB), so an
# "oversized" message is only produced when the daemon's dead_letter.max_bytes is below it.
MAX_PRODUCIBLE_BYTES = 1_000_000


# -- where the windows come from ------------------------------------------------------------------------------------

def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of an artifact: ``path`` is an artifact root (follows ``current``) or one version directory."""
    path = Path(path)
    if (path / "manifest.json").is_file():
        return json.loads((path / "manifest.json").read_text())
    from pipelines.artifact.store import resolve_current

    return json.loads((resolve_current(path) / "manifest.json").read_text())


def select_assets(names: Sequence[str], patterns: Sequence[str] | None) -> list[int]:
    """Indices of the assets whose name matches one of ``patterns`` (exact names or shell globs), in data order."""
    if not patterns:
        return list(range(len(names)))
    keep = [i for i, n in enumerate(names) if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    if not keep:
        raise ValueError(f"no asset matches {list(patterns)}; assets: {', '.join(names[:20])}"
                         f"{' ...' if len(names) > 20 else ''}")
    return keep


def merge_order(ts: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(stream index, row index) of every window, merged by time: ordered by each stream's running maximum time stamp
    (so a stream whose clock steps back still keeps its own order), then stream, then row."""
    sid = np.concatenate([np.full(len(t), i, dtype=np.int64) for i, t in enumerate(ts)]) if ts else np.empty(0, int)
    rid = np.concatenate([np.arange(len(t), dtype=np.int64) for t in ts]) if ts else np.empty(0, int)
    key = np.concatenate([np.maximum.accumulate(np.asarray(t, dtype=np.int64)) if len(t) else
                          np.empty(0, np.int64) for t in ts]) if ts else np.empty(0, np.int64)
    order = np.lexsort((rid, sid, key))
    return sid[order], rid[order]


@dataclass(frozen=True)
class Window:
    asset: str
    ts_ms: int
    values: np.ndarray
    label: int
    index: int
    loop: int


@dataclass
class Plan:
    """The windows of one pass, merged by time, plus what a looping replay needs to shift time stamps."""

    source: str
    streams: list[Any]  # pipelines.sources.WindowStream
    sid: np.ndarray
    rid: np.ndarray

    @classmethod
    def build(cls, source: str, streams: Sequence[Any], assets: Sequence[str] | None = None) -> "Plan":
        keep = select_assets([s.asset for s in streams], assets)
        chosen = [streams[i] for i in keep]
        sid, rid = merge_order([s.ts_ms for s in chosen])
        return cls(source, chosen, sid, rid)

    def __len__(self) -> int:
        return int(self.sid.size)

    @property
    def dim(self) -> int:
        return int(self.streams[0].X.shape[1]) if self.streams else 0

    def loop_shift_ms(self) -> int:
        """How far each pass moves the clock: the span of the data plus one second."""
        firsts = [int(s.ts_ms[0]) for s in self.streams if len(s.ts_ms)]
        lasts = [int(np.max(s.ts_ms)) for s in self.streams if len(s.ts_ms)]
        return (max(lasts) - min(firsts) + 1000) if firsts else 1000

    def windows(self, loop: bool = False) -> Iterator[Window]:
        shift, n = self.loop_shift_ms(), 0
        while True:
            for s, r in zip(self.sid.tolist(), self.rid.tolist()):
                st = self.streams[s]
                yield Window(st.asset, int(st.ts_ms[r]) + n * shift, st.X[r], int(st.y[r]), r, n)
            n += 1
            if not loop or not len(self):
                return


# -- messages -------------------------------------------------------------------------------------------------------

ENCODINGS = ("json", "binary")


def serialize_window(w: Window, source: str, encoding: str = "json") -> bytes:
    meta: dict[str, Any] = {"source": source, "label": w.label, "index": w.index}
    if w.loop:
        meta["loop"] = w.loop
    if encoding == "binary":
        return serialize_binary(w.asset, w.ts_ms, w.values, meta)
    return serialize_json(w.asset, w.ts_ms, w.values, meta)


def bad_message(kind: str, w: Window, source: str, oversized_bytes: int | None = None) -> bytes:
    """A message built from window ``w`` that the daemon must dead-letter with reason ``kind``."""
    doc: dict[str, Any] = {"schema": SCHEMA_VERSION, "asset": w.asset, "ts": w.ts_ms,
                           "values": [float(v) for v in w.values], "meta": {"source": source, "bad": kind}}
    if kind == Reason.MALFORMED_JSON:
        return orjson.dumps(doc)[:-7]
    if kind == Reason.NOT_UTF8:
        return b"\xff\xfe" + orjson.dumps(doc)
    if kind == Reason.MISSING_FIELD:
        del doc["values"]
    elif kind == Reason.INVALID_FIELD:
        doc["ts"] = "not-a-time"
    elif kind == Reason.WRONG_LENGTH:
        doc["values"] = doc["values"] + [0.0]
    elif kind == Reason.NON_FINITE:  # the NaN literal Python's json and Java's writers emit, which orjson refuses
        doc["values"][0] = 123456789.0
        return orjson.dumps(doc).replace(b"123456789.0", b"NaN", 1)
    elif kind == Reason.NON_NUMERIC:
        doc["values"][0] = "high"
    elif kind == Reason.UNKNOWN_SCHEMA:
        doc["schema"] = SCHEMA_VERSION + 98
    elif kind == Reason.OVERSIZED:
        if oversized_bytes is None:
            raise ValueError("an oversized message needs the daemon's dead_letter.max_bytes")
        doc["meta"]["pad"] = ""
        doc["meta"]["pad"] = "x" * max(0, oversized_bytes - len(orjson.dumps(doc)))
        return orjson.dumps(doc)
    else:
        raise ValueError(f"unknown dead-letter kind {kind!r}; known: {', '.join(BAD_KINDS)}")
    return orjson.dumps(doc)


def usable_bad_kinds(kinds: Iterable[str], max_bytes: int | None) -> tuple[tuple[str, ...], str | None]:
    """The kinds that can be produced, and why one was left out (oversized needs max_bytes below the broker limit)."""
    kinds = tuple(kinds)
    for k in kinds:
        if k not in BAD_KINDS:
            raise ValueError(f"unknown dead-letter kind {k!r}; known: {', '.join(BAD_KINDS)}")
    if Reason.OVERSIZED in kinds and (max_bytes is None or max_bytes + 1 > MAX_PRODUCIBLE_BYTES):
        why = (f"{Reason.OVERSIZED} left out: the daemon's dead_letter.max_bytes ({max_bytes}) is not below what the "
               f"broker accepts (~{MAX_PRODUCIBLE_BYTES} bytes); give --config with a smaller max_bytes to include it")
        return tuple(k for k in kinds if k != Reason.OVERSIZED), why
    return kinds, None


# -- sending --------------------------------------------------------------------------------------------------------

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
        return {"topic": self.topic, "messages": self.messages, "windows": self.windows,
                "bad": dict(sorted(self.bad.items())), "acked": self.acked, "errors": self.errors,
                "first_error": self.first_error, "seconds": round(self.seconds, 3), "rate": round(self.rate, 1),
                "partitions": {str(p): n for p, n in sorted(self.partitions.items())},
                "interrupted": self.interrupted, "notes": self.notes}


class Pacer:
    """Hold a target rate (messages/s) from the start, sleeping only when ahead by more than ``slack_s``."""

    def __init__(self, rate: float | None, clock: Callable[[], float] = time.perf_counter,
                 sleep: Callable[[float], None] = time.sleep, slack_s: float = 0.002) -> None:
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


def producer_settings(bootstrap: Sequence[str], client_kwargs: dict[str, Any] | None = None,
                      linger_ms: int = 20, batch_size: int = 262_144) -> dict[str, Any]:
    return {"bootstrap_servers": list(bootstrap), "client_id": "latentwatch-replay", "acks": "all",
            "enable_idempotence": True, "linger_ms": linger_ms, "batch_size": batch_size,
            "max_request_size": 1_048_576 + 65_536, **(client_kwargs or {})}


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


def replay(producer: Any, topic: str, plan: Plan, *, rate: float | None = None, limit: int | None = None,
           loop: bool = False, inject_bad: float = 0.0, bad_kinds: Sequence[str] = BAD_KINDS,
           max_bytes: int | None = None, seed: int = 0, record: bool = False,
           stop: threading.Event | None = None, flush_timeout_s: float = 120.0,
           progress: Callable[[ReplayReport], None] | None = None, progress_every_s: float = 10.0,
           encoding: str = "json") -> ReplayReport:
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
