"""Training windows from a time range of a Kafka topic in the daemon's message format.

The range is of the records' broker timestamps: each partition is read from the first offset at or after ``start``
(``offsets_for_times``) up to the first at or after ``end`` (or its end), and a record outside [start, end) is left
out. Messages are decoded by the daemon's own ``decode_batch`` (JSON and binary, mixed; the config's ``input``
bounds and ``dead_letter.max_bytes``), so a window trains the model exactly when the daemon would score it; the
others are counted by reason and skipped. The reader is groupless: it commits nothing and joins no group.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from tqdm import tqdm

from daemon.config import Config
from daemon.kafka_clients import consumer_settings
from daemon.wire.binary_codec import HEADER_BYTES, is_binary
from daemon.wire.json_codec import parse_json, parse_window
from daemon.wire.records import decode_batch
from daemon.wire.schema import InvalidMessage
from pipelines.data.user_windows import UserWindows

CHUNK = 2000  # records decoded per decode_batch call
_BINARY_N = slice(HEADER_BYTES - 2, HEADER_BYTES)  # the header's u16 value count (daemon/wire/binary_codec.py)


@dataclass
class TopicWindows:
    windows: UserWindows
    skipped: Counter[str] = field(default_factory=Counter)  # dead-letter reason -> messages skipped
    records: int = 0  # records in the range, good and bad


def parse_time(text: str) -> int:
    """Epoch ms from an ISO-8601 time (a naive one is UTC) or from epoch milliseconds."""
    if text.strip().isdigit():
        return int(text)
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO-8601 time or epoch ms: {text!r}") from None
    return int((dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp() * 1000)


def message_width(value: bytes | None, max_bytes: int) -> int | None:
    """The number of values a message carries, or None when it cannot be read that far."""
    if value is None:
        return None
    if is_binary(value):
        return int.from_bytes(value[_BINARY_N], "little") if len(value) >= HEADER_BYTES else None
    try:
        values = parse_window(parse_json(value, max_bytes))[2]
    except InvalidMessage:
        return None
    return len(values)


def infer_width(records: Sequence[Any], max_bytes: int) -> int:
    """The most common width among the records: the topic's model width, outvoting a few wrong-length messages."""
    widths = Counter(w for r in records if (w := message_width(r.value, max_bytes)) is not None)
    if not widths:
        raise ValueError(f"none of the first {len(records)} messages in the range is a window; give --width")
    return widths.most_common(1)[0][0]


def ranges(consumer: Any, topic: str, start_ms: int, end_ms: int) -> dict[Any, tuple[int, int]]:
    """{partition: (first offset, end offset)} of ``topic``'s records with broker timestamps in [start_ms, end_ms);
    partitions with none are left out."""
    from kafka import TopicPartition

    parts = consumer.partitions_for_topic(topic)
    if not parts:
        raise ValueError(f"topic {topic!r} does not exist or has no partitions")
    tps = [TopicPartition(topic, p) for p in sorted(parts)]
    ends = consumer.end_offsets(tps)
    first = consumer.offsets_for_times({tp: start_ms for tp in tps})
    last = consumer.offsets_for_times({tp: end_ms for tp in tps})
    out = {}
    for tp in tps:
        s = first[tp].offset if first[tp] is not None else ends[tp]
        e = last[tp].offset if last[tp] is not None else ends[tp]
        if e > s:
            out[tp] = (s, e)
    return out


def read_topic(
    cfg: Config,
    topic: str,
    start_ms: int,
    end_ms: int,
    width: int | None = None,
    progress: bool | None = None,
    idle_timeout_s: float = 60,
    dtype: type[np.floating[Any]] = np.float64,
) -> TopicWindows:
    """The valid windows of ``topic`` whose records lie in [start_ms, end_ms), ordered by their ``ts``. Records are
    decoded as they arrive, CHUNK at a time, so only the windows' arrays are held.

    The decoder's values are float32 (what the model reads), so ``dtype=np.float32`` loses nothing and halves the
    windows' memory (the refresh reads a million windows); float64 (default) is the same values widened. The chunks
    are held as float32 and written once into the ts-ordered array: no stacked copy, no sorted copy."""
    from kafka import KafkaConsumer

    if end_ms <= start_ms:
        raise ValueError(f"the range is empty: --to ({end_ms} ms) is not after --from ({start_ms} ms)")
    logging.getLogger("kafka").setLevel(logging.ERROR)
    settings = {**consumer_settings(cfg.kafka), "group_id": None, "client_id": f"{cfg.kafka.client_id}-train"}
    consumer = KafkaConsumer(**settings)
    out = TopicWindows(UserWindows(np.empty((0, width or 0), dtype=dtype), []))
    max_bytes, dim = cfg.dead_letter.max_bytes, width
    xs: list[np.ndarray] = []
    assets: list[np.ndarray] = []
    ts: list[np.ndarray] = []
    try:
        for chunk in chunks(consumer, ranges(consumer, topic, start_ms, end_ms), progress, idle_timeout_s):
            chunk = [r for r in chunk if start_ms <= r.timestamp < end_ms]
            if not chunk:
                continue
            dim = dim if dim is not None else infer_width(chunk, max_bytes)
            decoded = decode_batch(chunk, dim, max_bytes, cfg.input)
            out.records += len(chunk)
            out.skipped.update(e.reason for _, e in decoded.rejected)
            if len(decoded.windows.asset):
                xs.append(np.asarray(decoded.windows.values, dtype=np.float32))
                assets.append(np.asarray(decoded.windows.asset, dtype=str))
                ts.append(decoded.windows.ts_ms)
    finally:
        consumer.close()
    if not assets:
        raise ValueError(
            f"no valid window{f' of width {dim}' if dim else ''} in {topic} between {start_ms} and "
            f"{end_ms} ms ({out.records} records; skipped: {dict(out.skipped)})"
        )
    all_ts = np.concatenate(ts)
    del ts
    order = np.argsort(all_ts, kind="stable")
    out.windows = UserWindows(
        in_order(xs, order, int(dim or 0), dtype),
        [f"x{j}" for j in range(int(dim or 0))],
        np.concatenate(assets)[order],
        all_ts[order],
    )
    return out


def in_order(parts: list[np.ndarray], order: np.ndarray, dim: int, dtype: type[np.floating[Any]]) -> np.ndarray:
    """``np.vstack(parts)[order]`` as ``dtype``, written part by part into one array; ``parts`` is emptied as it
    goes, so at most the output and the parts not yet written are held."""
    dest = np.empty(len(order), dtype=np.int64)
    dest[order] = np.arange(len(order), dtype=np.int64)  # where each stacked row goes
    out = np.empty((len(order), dim), dtype=dtype)
    at = 0
    parts.reverse()
    while parts:
        part = parts.pop()
        out[dest[at : at + len(part)]] = part
        at += len(part)
    return out


def chunks(
    consumer: Any, todo: dict[Any, tuple[int, int]], progress: bool | None, idle_timeout_s: float
) -> Iterator[list[Any]]:
    """The records of each partition's [start, end) offsets, CHUNK or so at a time."""
    import sys
    import time

    if not todo:
        return
    consumer.assign(list(todo))
    for tp, (s, _) in todo.items():
        consumer.seek(tp, s)
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=sum(e - s for s, e in todo.values()), desc="read", unit="msg", disable=not show, leave=False)
    buf: list[Any] = []
    last = time.monotonic()
    try:
        while any(consumer.position(tp) < e for tp, (_, e) in todo.items()):
            if time.monotonic() - last > idle_timeout_s:
                raise TimeoutError(f"no record of the range arrived for {idle_timeout_s:.0f} s")
            for tp, recs in consumer.poll(timeout_ms=500).items():
                got = [r for r in recs if r.offset < todo[tp][1]]
                buf.extend(got)
                bar.update(len(got))
                last = time.monotonic() if got else last
            if len(buf) >= CHUNK:
                yield buf
                buf = []
        if buf:
            yield buf
    finally:
        bar.close()
