"""A persistent fault through the daemon on the real broker, under the config's own threshold and episode defaults:
it stays alarmed and stays one open episode, with its updates, for as long as it lasts (the former
``absorb_after: 30`` stopped it after about 40 windows)."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
import yaml

from daemon.config import Config, load_config
from tests.daemon.conftest import DIM
from tests.daemon.helpers import window
from tests.daemon.kafka_io import produce, read_all

pytestmark = pytest.mark.kafka
NORMAL, FAULT, AFTER = 600, 400, 100


@pytest.fixture(scope="module")
def long_calibration_root(tmp_path_factory):
    """An artifact with 600 calibration scores: DSPOT at the default level 0.98 needs 510."""
    from pipelines.fit import TrainSpec, fit_artifact

    root = tmp_path_factory.mktemp("artifacts-3000")
    X = np.random.default_rng(0).normal(size=(3000, DIM))
    fit_artifact(X, root, TrainSpec(hidden=(16,), latent=4, epochs=15, patience=5, device="cpu", k=5), seed=0)
    return root


def test_a_fault_of_400_windows_is_one_episode_alarmed_throughout(
    make_config, start_daemon, kafka_bootstrap, long_calibration_root
):
    defaults = Config()
    path = make_config("fault", artifact={"root": str(long_calibration_root), "check_interval_s": 1})
    doc = yaml.safe_load(path.read_text())  # the test fixture's threshold and episode settings out: the defaults run
    doc["threshold"] = {"checkpoint_path": doc["threshold"]["checkpoint_path"], "checkpoint_interval_s": 1}
    del doc["episodes"]
    path.write_text(yaml.safe_dump(doc))
    cfg = load_config(path)
    assert (cfg.threshold.method, cfg.threshold.q, cfg.threshold.level) == (
        defaults.threshold.method,
        defaults.threshold.q,
        defaults.threshold.level,
    )
    assert cfg.episodes == defaults.episodes
    rng = np.random.default_rng(4)
    values = rng.normal(size=(NORMAL + FAULT + AFTER, DIM))
    values[NORMAL : NORMAL + FAULT] += 25.0
    items = [
        (b"pump", window("pump", ts=1_714_564_800_000 + i * 1000, values=v.tolist(), dim=DIM))
        for i, v in enumerate(values)
    ]
    produce(kafka_bootstrap, cfg.kafka.input_topic, items)

    run = start_daemon(path)
    d = run.daemon
    run.wait_for(lambda: d.metrics.scored._value.get() >= len(items), what="every window scored")
    run.wait_for(lambda: d.commit_step.in_flight() == 0 and len(d.batcher) == 0, what="commit")
    assert run.stop() == 0

    alerts = [orjson.loads(m.value) for m in read_all(kafka_bootstrap, cfg.kafka.alert_topic)]
    offsets = lambda kind: [a["source"]["offset"] for a in alerts if a["episode"]["event"] == kind]  # noqa: E731
    in_fault = [o for o in offsets("open") if NORMAL <= o < NORMAL + FAULT]
    assert in_fault == [NORMAL]  # one episode, opened on the fault's first window
    ep = next(a["episode"]["episode_id"] for a in alerts if a["source"]["offset"] == NORMAL)
    mine = [a for a in alerts if a["episode"]["episode_id"] == ep]
    (close,) = [a for a in mine if a["episode"]["event"] == "close"]
    assert close["episode"]["n_alarms"] == FAULT  # every fault window alarmed
    assert NORMAL + FAULT <= close["source"]["offset"] < NORMAL + FAULT + 2 * cfg.episodes.quiet_windows
    updates = [a["episode"]["n_alarms"] for a in mine if a["episode"]["event"] == "update"]
    every = cfg.episodes.update_every
    assert updates == list(range(every + 1, FAULT + 1, every))
    assert d.metrics.thresholds_held._value.get() == 0  # alarms are no peaks: a fault does not trip the guard
