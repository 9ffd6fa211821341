"""The daemon across a reference swap under live traffic, on the real broker: a refresh published while it consumes
is swapped in between batches, every input offset is scored or dead-lettered exactly once, and each alert carries
the version its window was scored with; a tampered version and one that cannot load leave it on the old version;
a rollback is followed, thresholds and all."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from daemon.config import load_config
from tests.daemon.conftest import DIM, RunningDaemon
from tests.daemon.kafka_io import all_committed, committed_and_end, good_windows, produce, read_all
from tests.daemon.versions import point_current_at, refreshed_version, tampered_version, unloadable_version

pytestmark = pytest.mark.kafka

BAD = [(f"bad-{i}".encode(), b"{not json") for i in range(5)]


class Recorded:
    """A real Daemon whose commits are recorded: every record of every committed batch with the version of the
    model its batch was decoded with, in commit order."""

    def __init__(self, config: Path) -> None:
        from daemon.service import Daemon

        self.daemon = Daemon(load_config(config))
        self.seen: list[tuple[int, int, str]] = []
        committed = self.daemon._on_committed

        def record(batches: list[Any], offsets: Any) -> None:
            for b in batches:
                self.seen.extend((r.partition, r.offset, b.model.version) for r in b.records)
            committed(batches, offsets)

        self.daemon._on_committed = record  # type: ignore[method-assign]
        self.run = RunningDaemon(self.daemon)

    def counted(self) -> float:
        m = self.daemon.metrics
        return m.scored._value.get() + m.dead_letters.labels(reason="malformed_json")._value.get()

    def version_of(self) -> dict[tuple[int, int], str]:
        return {(p, o): v for p, o, v in self.seen}


@pytest.fixture
def versions(artifact_root, tmp_path) -> tuple[Path, str, str]:
    """A copy of the session's artifact root (v1 current) with a refresh of it published beside (v2)."""
    root = tmp_path / "artifacts"
    shutil.copytree(artifact_root, root)
    v1 = (root / "current.json").read_text()
    v2 = refreshed_version(root, np.random.default_rng(7).normal(size=(1500, DIM)) * 0.8)
    assert (root / "current.json").read_text() == v1
    return root, orjson.loads(v1)["version"], v2


def paced(bootstrap: str, topic: str, items: list, per_s: float) -> threading.Thread:
    """Produce ``items`` at about ``per_s`` a second on a thread of its own (live traffic)."""

    def send() -> None:
        for i in range(0, len(items), 25):
            produce(bootstrap, topic, items[i : i + 25])
            time.sleep(25 / per_s)

    t = threading.Thread(target=send, daemon=True)
    t.start()
    return t


def check_accounted(rec: Recorded, bootstrap: str, cfg: Any, total: int) -> list[dict]:
    """Every input offset went through the chain once (scored or dead-lettered) and is committed; the alerts, each
    with the version its window was scored with."""
    committed, end = committed_and_end(bootstrap, cfg.kafka.group_id, cfg.kafka.input_topic)
    assert all_committed(committed, end), (committed, end)
    offsets = [(p, o) for p, o, _ in rec.seen]
    assert len(offsets) == len(set(offsets)) == total == sum(end.values())  # none twice, none missing
    assert set(offsets) == {(p, o) for p, n in end.items() for o in range(n)}
    assert rec.counted() == total
    alerts = [orjson.loads(r.value) for r in read_all(bootstrap, cfg.kafka.alert_topic)]
    version_of = rec.version_of()
    for a in alerts:
        if a["episode"]["event"] != "close":
            assert a["artifact_version"] == version_of[(a["source"]["partition"], a["source"]["offset"])], a
    return alerts


def versions_in_order(rec: Recorded) -> list[str]:
    """The versions the batches were scored with, in commit order, each run of one version once."""
    out: list[str] = []
    for _, _, v in rec.seen:
        if not out or out[-1] != v:
            out.append(v)
    return out


def test_a_refresh_published_under_live_traffic_is_swapped_in_with_every_offset_accounted_for(
    make_config, kafka_bootstrap, versions
):
    root, v1, v2 = versions
    path = make_config("refresh-swap", artifact={"root": str(root), "check_interval_s": 0.2})
    cfg = load_config(path)
    first, during, after = (good_windows(n, DIM, anomaly_every=25, seed=s) for n, s in ((800, 1), (1500, 2), (400, 3)))
    during = during[:700] + BAD + during[700:]
    total = len(first) + len(during) + len(after)
    produce(kafka_bootstrap, cfg.kafka.input_topic, first)
    rec = Recorded(path)
    d = rec.daemon
    rec.run.wait_for(lambda: rec.counted() >= 400, what="traffic flowing under v1")
    traffic = paced(kafka_bootstrap, cfg.kafka.input_topic, during, per_s=600)
    time.sleep(0.5)
    point_current_at(root, v2)  # what publish does last: the pointer names the new version
    rec.run.wait_for(lambda: d.model.model.version == v2, what="the swap")
    swapped_at = rec.counted()
    traffic.join(30)
    produce(kafka_bootstrap, cfg.kafka.input_topic, after)
    rec.run.wait_for(lambda: rec.counted() >= total, timeout=120, what="every window")
    rec.run.wait_for(lambda: d.commit_step.in_flight() == 0, what="the last commit")
    assert rec.run.stop() == 0

    assert swapped_at < len(first) + len(during)  # swapped while the paced traffic was still arriving
    assert d.metrics.model_swaps.labels(outcome="swapped")._value.get() == 1
    assert d.metrics.model_swaps.labels(outcome="refused")._value.get() == 0
    assert versions_in_order(rec) == [v1, v2]  # between batches: no batch after the swap used the old model
    alerts = check_accounted(rec, kafka_bootstrap, cfg, total)
    by_version = {v: [a for a in alerts if a["artifact_version"] == v] for v in (v1, v2)}
    assert by_version[v1] and by_version[v2] and len(by_version[v1]) + len(by_version[v2]) == len(alerts)


def test_a_tampered_version_and_one_that_cannot_load_leave_the_daemon_on_the_old_one(
    make_config, kafka_bootstrap, versions
):
    root, v1, _ = versions
    path = make_config("refused-swap", artifact={"root": str(root), "check_interval_s": 0.2})
    cfg = load_config(path)
    first, rest = good_windows(600, DIM, anomaly_every=25, seed=1), good_windows(600, DIM, anomaly_every=25, seed=2)
    produce(kafka_bootstrap, cfg.kafka.input_topic, first)
    rec = Recorded(path)
    d = rec.daemon
    rec.run.wait_for(lambda: rec.counted() >= 300, what="traffic under v1")
    refused = d.metrics.model_swaps.labels(outcome="refused")
    traffic = paced(kafka_bootstrap, cfg.kafka.input_topic, rest, per_s=600)
    point_current_at(root, tampered_version(root, v1))
    rec.run.wait_for(lambda: refused._value.get() >= 1, what="the tampered version refused")
    point_current_at(root, unloadable_version(root, v1))
    rec.run.wait_for(lambda: refused._value.get() >= 2, what="the unloadable version refused")
    traffic.join(30)
    rec.run.wait_for(lambda: rec.counted() >= 1200, timeout=120, what="every window")
    rec.run.wait_for(lambda: d.commit_step.in_flight() == 0, what="the last commit")
    assert rec.run.stop() == 0

    assert d.model.model.version == v1 and refused._value.get() == 2
    assert d.metrics.model_swaps.labels(outcome="swapped")._value.get() == 0
    assert len(d.model.failed) == 2  # each refused once, never loaded again
    assert versions_in_order(rec) == [v1]
    alerts = check_accounted(rec, kafka_bootstrap, cfg, 1200)
    assert alerts and {a["artifact_version"] for a in alerts} == {v1}


def test_a_rollback_is_followed_and_the_thresholds_restart_from_the_old_calibration(
    make_config, kafka_bootstrap, versions
):
    from pipelines.artifact.store import rollback, set_current
    from pipelines.online import OnlineModel
    from pipelines.threshold import ThresholdBank

    root, v1, v2 = versions
    path = make_config("rollback", artifact={"root": str(root), "check_interval_s": 0.2})
    cfg = load_config(path)
    parts = [good_windows(500, DIM, anomaly_every=25, seed=s) for s in (1, 2, 3)]

    def shared_fit(version: str) -> np.ndarray:
        calibration = OnlineModel.load(root / "versions" / version).calibration
        return ThresholdBank.from_settings(cfg.threshold, calibration).calibration_peaks

    assert not np.array_equal(shared_fit(v1), shared_fit(v2))
    rec = Recorded(path)
    d = rec.daemon
    produce(kafka_bootstrap, cfg.kafka.input_topic, parts[0])
    rec.run.wait_for(lambda: rec.counted() >= 500, what="traffic under v1")
    set_current(root, v2)
    rec.run.wait_for(lambda: d.model.model.version == v2, what="the swap to the refresh")
    assert np.array_equal(d.bank.calibration_peaks, shared_fit(v2))  # restarted from the refresh's calibration
    produce(kafka_bootstrap, cfg.kafka.input_topic, parts[1])
    rec.run.wait_for(lambda: rec.counted() >= 1000, what="traffic under v2")
    traffic = paced(kafka_bootstrap, cfg.kafka.input_topic, parts[2], per_s=600)
    assert rollback(root) == (v2, v1)  # `latentwatch artifacts rollback`: current names the previous version again
    rec.run.wait_for(lambda: d.model.model.version == v1, what="the rollback followed")
    traffic.join(30)
    rec.run.wait_for(lambda: rec.counted() >= 1500, timeout=120, what="every window")
    rec.run.wait_for(lambda: d.commit_step.in_flight() == 0, what="the last commit")
    assert np.array_equal(d.bank.calibration_peaks, shared_fit(v1))  # and from v1's again
    assert rec.run.stop() == 0

    assert d.metrics.model_swaps.labels(outcome="swapped")._value.get() == 2
    assert versions_in_order(rec) == [v1, v2, v1]
    alerts = check_accounted(rec, kafka_bootstrap, cfg, 1500)
    assert {a["artifact_version"] for a in alerts} == {v1, v2}
