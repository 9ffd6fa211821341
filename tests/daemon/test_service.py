"""The loop's own logic with recording clients (drain on the stop flag, backpressure, health, reload diff).

Kafka behaviour is in test_kafka_run.py / test_kafka_lifecycle.py against the real broker; these recorders only
stand where the loop calls its clients.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path

import pytest
from kafka.structs import TopicPartition

from daemon.config import Config, HttpConfig, ThresholdConfig, load_config
from daemon.inmemory import MemoryConsumer, MemoryProducer
from daemon.reload import changed_keys, merge_live
from daemon.service import EXIT_OK, Daemon
from tests.daemon.helpers import STAND_IN_TRACKER, Rec, StandInModel, checkpoint_as_format1, window

IN = TopicPartition("in", 0)


def consumer_of(records):
    """The in-memory consumer, assigned partition in:0 whether or not it holds records, idle polls waiting."""
    return MemoryConsumer(records, partitions=[IN])


def make_daemon(tmp_path, records, **cfg_kw):
    cfg = Config(
        http=HttpConfig(port=0),
        threshold=ThresholdConfig(method="spot", q=1e-3, level=0.9, checkpoint_path=tmp_path / "state.json"),
        **cfg_kw,
    )
    consumer, producer = consumer_of(records), MemoryProducer()
    d = Daemon(
        cfg,
        clients=lambda c: (consumer, producer),
        model_loader=lambda p: StandInModel(),
        resolver=lambda root: Path("/a/versions/v"),
        factories=STAND_IN_TRACKER,
    )
    return d, consumer, producer


def restored_daemon(cfg: Config) -> Daemon:
    """A daemon on stand-ins with no records, its model loaded and its checkpoint (if any) restored."""
    d = Daemon(
        cfg,
        clients=lambda c: (consumer_of([]), MemoryProducer()),
        model_loader=lambda p: StandInModel(),
        resolver=lambda root: Path("/a/versions/v"),
        factories=STAND_IN_TRACKER,
    )
    d.model.load_initial()
    d.restore_state()
    return d


def records(n, bad_every=0):
    return [
        Rec("in", 0, i, b"a", b"{" if bad_every and i % bad_every == 0 else window("a", ts=1_000_000 + i))
        for i in range(n)
    ]


def test_stop_flag_drains_what_the_batcher_holds_commits_and_exits_zero(tmp_path):
    from daemon.config import BatchingConfig

    d, consumer, producer = make_daemon(
        tmp_path, records(30, bad_every=10), batching=BatchingConfig(max_records=1000, max_wait_ms=60_000)
    )
    t = threading.Thread(target=lambda: setattr(d, "rc", d.run()))
    t.start()
    deadline = time.monotonic() + 20
    while (not d.started.is_set() or len(d.batcher) < 30) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(d.batcher) == 30 and consumer.commits == []  # held: the batch waits 60 s
    d.flags.request_stop("test")
    t.join(10)
    assert d.rc == EXIT_OK and consumer.closed
    assert consumer.commits == [{TopicPartition("in", 0): 30}]
    assert d.metrics.scored._value.get() == 27
    assert sum(1 for s in producer.sent if s[0] == d.cfg.kafka.dead_letter_topic) == 3
    assert (tmp_path / "state.json").is_file()


def test_a_stuck_producer_pauses_the_partitions_and_commits_nothing(tmp_path):
    from daemon.config import BatchingConfig

    d, consumer, producer = make_daemon(
        tmp_path,
        records(100),
        batching=BatchingConfig(max_records=10, max_wait_ms=1, max_in_flight=20),
        shutdown_timeout_s=0.5,
    )
    producer.stuck = True
    t = threading.Thread(target=lambda: setattr(d, "rc", d.run()))
    t.start()
    deadline = time.monotonic() + 20
    while not (d.loop is not None and d.loop.paused) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert d.loop.paused and consumer.paused() == {IN}
    d.flags.request_stop("test")
    t.join(10)
    assert consumer.commits == []
    assert d.in_flight() >= 20  # bounded: it stopped taking records at max_in_flight
    assert d.in_flight() <= 20 + 10
    assert d.rc == 1  # the drain could not flush within shutdown_timeout_s: not a clean stop


def test_health_and_metrics_over_http(tmp_path):
    d, consumer, producer = make_daemon(tmp_path, records(5))
    t = threading.Thread(target=lambda: setattr(d, "rc", d.run()))
    t.start()
    try:
        deadline = time.monotonic() + 20
        while d.phase != "consuming" and time.monotonic() < deadline:
            time.sleep(0.01)
        port = d.http.port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            assert r.status == 200 and b"consuming 1 partition" in r.read()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            body = r.read()
        assert b"latentwatch_windows_consumed_total" in body and b'latentwatch_artifact_info{dim="4"' in body
        assert b"python_gc" not in body  # its own registry, not the process-global one
        d.phase = "stopping"
        with pytest.raises(urllib.error.HTTPError) as ei:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert ei.value.code == 503
    finally:
        d.flags.request_stop("test")
        t.join(10)


def test_changed_keys_names_dotted_keys_only():
    from daemon.config import KafkaConfig, Secret, SecurityConfig

    a = Config()
    b = Config(kafka=KafkaConfig(group_id="x", security=SecurityConfig(sasl_plain_password=Secret("pw"))))
    assert sorted(changed_keys(a, b)) == ["kafka.group_id", "kafka.security.sasl_plain_password"]


def test_merge_live_applies_live_sections_and_keeps_the_rest():
    import dataclasses

    from daemon.config import BatchingConfig, EpisodesConfig, KafkaConfig

    old = Config()
    new = Config(
        batching=BatchingConfig(max_records=7, max_in_flight=70),
        kafka=KafkaConfig(group_id="other"),
        episodes=EpisodesConfig(update_every=3, quiet_windows=99),
    )
    merged, live, later = merge_live(old, new)
    assert merged.batching.max_records == 7 and merged.episodes.update_every == 3
    assert merged.kafka.group_id == old.kafka.group_id and merged.episodes.quiet_windows == old.episodes.quiet_windows
    assert sorted(live) == ["batching.max_in_flight", "batching.max_records", "episodes.update_every"]
    assert sorted(later) == ["episodes.quiet_windows", "kafka.group_id"]
    assert dataclasses.replace(merged, source=None) != old


def test_bundled_config_builds_a_daemon_without_touching_kafka():
    cfg = load_config(Path(__file__).resolve().parents[2] / "conf" / "local.yaml")
    d = Daemon(cfg)
    assert d.phase == "starting" and d.health() == (False, "starting")


def test_a_rejoin_that_never_completes_gets_a_fresh_consumer(tmp_path, monkeypatch):
    import asyncio

    import daemon.loop as loop

    monkeypatch.setattr(loop, "REJOIN_STALL_S", 0.3)
    stuck, fresh, producer = consumer_of(records(5)), consumer_of(records(10)), MemoryProducer()
    made = iter([(stuck, producer), (fresh, MemoryProducer())])
    cfg = Config(
        http=HttpConfig(port=0),
        threshold=ThresholdConfig(method="spot", q=1e-3, level=0.9, checkpoint_path=tmp_path / "state.json"),
    )
    d = Daemon(
        cfg,
        clients=lambda c: next(made),
        model_loader=lambda p: StandInModel(),
        resolver=lambda root: Path("/a/versions/v"),
        factories=STAND_IN_TRACKER,
    )
    t = threading.Thread(target=lambda: setattr(d, "rc", d.run()))
    t.start()
    deadline = time.monotonic() + 20
    while not stuck.commits and time.monotonic() < deadline:
        time.sleep(0.01)
    asyncio.run(d.loop.rebalance.on_partitions_revoked(stuck.assignment()))
    assert d.health() == (False, "waiting for a partition assignment")
    while not fresh.commits and time.monotonic() < deadline:
        time.sleep(0.01)
    d.flags.request_stop("test")
    t.join(10)
    assert stuck.closed and d.consumer is fresh
    assert d.metrics.consumer_recreated._value.get() == 1
    # the fresh consumer starts where the state is (5, committed by the revoke), not at its own beginning
    assert fresh.commits and fresh.commits[-1] == {TopicPartition("in", 0): 10} and d.rc == EXIT_OK


def test_a_checkpoint_from_before_refit_every_restores_under_the_papers_rule_only(tmp_path):
    import json

    import numpy as np

    def daemon(refit_every):
        return restored_daemon(
            Config(
                threshold=ThresholdConfig(
                    method="spot", q=1e-3, level=0.9, refit_every=refit_every, checkpoint_path=tmp_path / "state.json"
                )
            )
        )

    old = daemon(1)
    old.bank.process(["a"] * 50, np.linspace(0.0, 1.0, 50))
    old.save_checkpoint()
    state = checkpoint_as_format1(tmp_path / "state.json")
    del state["threshold_config"]["refit_every"]  # what a checkpoint written before the key existed holds
    (tmp_path / "state.json").write_text(json.dumps(state))
    assert daemon(1).bank.assets == ["a"]  # restored: the old checkpoint ran under the paper's rule
    assert daemon(10).bank.assets == []  # another refit policy: thresholds start afresh from calibration
