"""Admin calls, offsets and reading topics back on a real broker, for the demo, the benchmarks and the tests.

Nothing here is on the daemon's path: these are the tools that look at the broker from the outside.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

Offsets = dict[int, int]  # partition -> offset, for one topic


def _quiet_kafka() -> None:
    logging.getLogger("kafka").setLevel(logging.ERROR)


@contextmanager
def admin_client(bootstrap: str, security: Mapping[str, Any] | None = None, timeout_ms: int = 30000) -> Iterator[Any]:
    from kafka import KafkaAdminClient

    _quiet_kafka()
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="latentwatch-tools",
        request_timeout_ms=timeout_ms,
        bootstrap_timeout_ms=timeout_ms,
        **dict(security or {}),
    )
    try:
        yield admin
    finally:
        admin.close()


def ensure_topics(bootstrap: str, topics: Mapping[str, int], security: Mapping[str, Any] | None = None) -> list[str]:
    """Create the topics (name -> partitions) that do not exist yet; returns the names created."""
    with admin_client(bootstrap, security) as admin:
        existing = set(admin.list_topics())
        missing = {t: n for t, n in topics.items() if t not in existing}
        if missing:
            admin.create_topics({t: {"num_partitions": n, "replication_factor": 1} for t, n in missing.items()})
        admin.wait_for_topics(list(topics), timeout_ms=60000)
    return sorted(missing)


def delete_topics(bootstrap: str, topics: Sequence[str], security: Mapping[str, Any] | None = None) -> None:
    with admin_client(bootstrap, security) as admin:
        admin.delete_topics(list(topics), raise_errors=False)


def end_offsets(bootstrap: str, topic: str, security: Mapping[str, Any] | None = None) -> Offsets:
    from kafka import KafkaConsumer, TopicPartition

    _quiet_kafka()
    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id="latentwatch-tools-ends", **dict(security or {}))
    try:
        parts = c.partitions_for_topic(topic) or set()
        return {tp.partition: o for tp, o in c.end_offsets([TopicPartition(topic, p) for p in parts]).items()}
    finally:
        c.close()


# The group coordinator of a broker that has just started (its __consumer_offsets topic created on first use) answers
# "not available" or "load in progress" for a few seconds; every group call below waits through that, bounded.
COORDINATOR_WAIT_S = 60.0


class CoordinatorUnavailable(RuntimeError):
    """The broker answered but its group coordinator did not become ready within the wait."""


def with_coordinator(call: Callable[[], Any], group: str, bootstrap: str, timeout_s: float = COORDINATOR_WAIT_S) -> Any:
    """``call()``, retried while the broker says the coordinator of ``group`` is not ready yet (backoff 0.1 s to
    2 s, ``timeout_s`` in all); then ``CoordinatorUnavailable`` naming the group, the broker and the last error."""
    from kafka.errors import CoordinatorLoadInProgressError, CoordinatorNotAvailableError, NotCoordinatorError

    deadline, pause = time.monotonic() + timeout_s, 0.1
    while True:
        try:
            return call()
        except (CoordinatorNotAvailableError, CoordinatorLoadInProgressError, NotCoordinatorError) as e:
            if time.monotonic() + pause > deadline:
                raise CoordinatorUnavailable(
                    f"the group coordinator for {group!r} on {bootstrap} was not ready within {timeout_s:g}s "
                    f"(last answer: {type(e).__name__}); is the broker healthy? (scripts/kafka.sh status)"
                ) from e
            time.sleep(pause)
            pause = min(2.0, pause * 2)


def committed(
    bootstrap: str, group: str, topic: str, security: Mapping[str, Any] | None = None, admin: Any = None
) -> Offsets:
    """The group's committed offsets on ``topic`` (partitions without a commit are left out)."""

    def fetch(a: Any) -> Offsets:
        got = with_coordinator(lambda: a.list_group_offsets({group: None}), group, bootstrap).get(group, {})
        return {tp.partition: om.offset for tp, om in got.items() if tp.topic == topic and om.offset >= 0}

    if admin is not None:
        return fetch(admin)
    with admin_client(bootstrap, security) as a:
        return fetch(a)


def group_members(bootstrap: str, group: str, security: Mapping[str, Any] | None = None) -> int:
    with admin_client(bootstrap, security) as admin:
        groups = with_coordinator(lambda: admin.describe_groups([group]), group, bootstrap)
        return len(groups.get(group, {}).get("members") or [])


def set_committed(
    bootstrap: str, group: str, topic: str, offsets: Offsets, security: Mapping[str, Any] | None = None
) -> None:
    """Commit ``offsets`` for a group that has no members (the daemon is not running)."""
    from kafka.errors import CoordinatorLoadInProgressError, CoordinatorNotAvailableError, NotCoordinatorError
    from kafka.structs import OffsetAndMetadata, TopicPartition

    def attempt() -> dict[Any, Any]:
        got = admin.alter_group_offsets(
            group, {TopicPartition(topic, p): OffsetAndMetadata(o, "", -1) for p, o in offsets.items()}
        )
        for err in got.values():  # reported per partition, not raised
            if err in (CoordinatorLoadInProgressError, CoordinatorNotAvailableError, NotCoordinatorError):
                raise err()
        return got

    with admin_client(bootstrap, security) as admin:
        result = with_coordinator(attempt, group, bootstrap)
    bad = {str(tp): err for tp, err in result.items() if getattr(err, "__name__", str(err)) != "NoError"}
    if bad:
        raise RuntimeError(f"could not set the committed offsets of group {group}: {bad}")


def read_range(
    bootstrap: str,
    topic: str,
    start: Offsets,
    end: Offsets | None = None,
    security: Mapping[str, Any] | None = None,
    timeout_s: float = 120,
) -> list[Any]:
    """The records of ``topic`` from ``start`` (per partition; 0 where missing) up to ``end`` (default: the end
    offsets now), in (partition, offset) order."""
    from kafka import KafkaConsumer, TopicPartition

    end = end_offsets(bootstrap, topic, security) if end is None else end
    todo = {p: (start.get(p, 0), e) for p, e in end.items() if e > start.get(p, 0)}
    if not todo:
        return []
    _quiet_kafka()
    c = KafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id="latentwatch-tools-reader",
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 << 20,
        **dict(security or {}),
    )
    out: list[Any] = []
    try:
        tps = {p: TopicPartition(topic, p) for p in todo}
        c.assign(list(tps.values()))
        for p, (s, _) in todo.items():
            c.seek(tps[p], s)
        deadline = time.monotonic() + timeout_s
        while any(c.position(tps[p]) < e for p, (_, e) in todo.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} up to {end} within {timeout_s:.0f}s")
            for recs in c.poll(timeout_ms=500).values():
                out.extend(r for r in recs if r.offset < todo[r.partition][1])
    finally:
        c.close()
    return sorted(out, key=lambda r: (r.partition, r.offset))
