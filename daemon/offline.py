"""What the daemon would publish for a given list of input records, computed without Kafka.

The records (topic, partition, offset, key, value: e.g. read back from the input topic, or from a replay's delivery
reports) go through the daemon itself: ``daemon.service.Daemon`` with its own chain (decode, score, threshold, alert
policy, sink, commit), its own threshold bank and episode tracker factories, fed by an in-memory consumer and writing
into an in-memory producer (``daemon.inmemory``, the stand-ins the tests use too). Nothing is re-implemented, so a
live run over the same records, with the same artifact and the same threshold and episode settings, must publish the
same alerts with the same ids.

Each asset's detector and episode state only sees its own windows, in partition order, so any interleaving of the
partitions gives the same alerts; this one hands out the partitions round-robin, ``max_records`` at a time.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from daemon.config import Config
from daemon.inmemory import MemoryConsumer, MemoryProducer


@dataclass
class OfflineRun:
    exit_code: int
    alerts: list[dict[str, Any]]  # decoded alert messages, in publication order
    dead_letters: list[tuple[int, int, str]]  # (partition, offset, reason) of every dead-lettered record
    committed: dict[int, int]  # partition -> next offset, as the daemon committed it
    scored: int

    @property
    def alert_ids(self) -> Counter[str]:
        return Counter(a["alert_id"] for a in self.alerts)


def offline_config(cfg: Config, state_dir: Path, artifact_path: Path | None = None) -> Config:
    """The live config with what must differ offline: no HTTP, a fresh checkpoint file, quiet logs, the model pinned
    to ``artifact_path`` when given (the live daemon's version, so both score with the same one)."""
    art = cfg.artifact if artifact_path is None else dataclasses.replace(cfg.artifact, path=Path(artifact_path))
    return dataclasses.replace(
        cfg,
        artifact=art,
        http=dataclasses.replace(cfg.http, enabled=False),
        logging=dataclasses.replace(cfg.logging, level="WARNING"),
        threshold=dataclasses.replace(cfg.threshold, checkpoint_path=Path(state_dir) / "offline-state.json"),
    )


def score_offline(cfg: Config, records: Sequence[Any], artifact_path: Path | None = None) -> OfflineRun:
    """Run ``records`` through the daemon's chain with in-memory Kafka clients; return what it published."""
    from daemon.service import Daemon
    from daemon.signals import Flags

    with tempfile.TemporaryDirectory(prefix="latentwatch-offline-") as tmp:
        flags = Flags()
        consumer = MemoryConsumer(records, lambda: flags.request_stop("offline-done"))
        producer = MemoryProducer()
        d = Daemon(offline_config(cfg, Path(tmp), artifact_path), flags=flags, clients=lambda c: (consumer, producer))
        code = d.run()
    alerts = [orjson.loads(v) for t, _, v, _ in producer.sent if t == cfg.kafka.alert_topic and v is not None]
    dead = []
    for t, _, _, headers in producer.sent:
        if t == cfg.kafka.dead_letter_topic:
            h = {k: v.decode() for k, v in headers or []}
            dead.append((int(h["source_partition"]), int(h["source_offset"]), h["reason"]))
    return OfflineRun(
        exit_code=code,
        alerts=alerts,
        dead_letters=sorted(dead),
        committed={tp.partition: o for tp, o in consumer.committed_offsets.items()},
        scored=int(d.metrics.registry.get_sample_value("latentwatch_windows_scored_total") or 0),
    )
