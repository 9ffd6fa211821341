"""The daemon serves a VAE artifact from its config (issue 13): training variant vae, scorer vae-elbo (the negated
ELBO over seeded Monte-Carlo draws), loaded by OnlineModel from safetensors and JSON, scored through the daemon's own
chain over in-memory Kafka stand-ins (daemon/offline.py) and against the real broker (scripts/kafka.sh)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import orjson
import pytest

from latentwatch.replay import Plan, serialize_window
from pipelines.sources import WindowStream
from tests.daemon.conftest import DIM
from tests.daemon.helpers import Rec
from tests.daemon.kafka_io import good_windows, produce, read_all

SPEC = {"hidden": (16,), "latent": 4, "epochs": 15, "patience": 5, "device": "cpu", "k": 5, "variant": "vae"}


@pytest.fixture(scope="module")
def vae_root(tmp_path_factory):
    from pipelines.fit import TrainSpec, fit_artifact

    root = tmp_path_factory.mktemp("vae-artifacts")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 3)) @ rng.normal(size=(3, DIM)) + 0.05 * rng.normal(size=(1000, DIM))
    fit_artifact(X, root, TrainSpec(**SPEC, scorer="vae-elbo"), seed=0)
    return root, X


def test_the_daemon_scores_a_vae_artifact_with_its_negated_elbo(vae_root, tmp_path):
    from daemon.config import load_config
    from daemon.offline import score_offline
    from pipelines.online import OnlineModel

    root, X_train = vae_root
    online = OnlineModel.load_current(root)
    assert online.model.variant.name == "vae" and online.scorer.name == "vae-elbo"
    cfg_path = tmp_path / "d.yaml"
    cfg_path.write_text(
        f"artifact:\n  root: {root}\nthreshold:\n  method: spot\n  q: 0.001\n  level: 0.9\n"
        f"episodes:\n  quiet_windows: 2\n  update_every: 2\nbatching:\n  max_records: 50\n  max_in_flight: 100\n"
    )
    cfg = load_config(cfg_path)
    X = X_train[:400].copy()
    X[200:215] += 40.0  # an incident on every asset
    assets = [f"a{i % 4}" for i in range(400)]
    streams = [
        WindowStream(
            a,
            X[[i for i in range(400) if assets[i] == a]],
            np.zeros(100, np.int64),
            np.arange(100, dtype=np.int64) * 1000 + 1_714_564_800_000,
        )
        for a in sorted(set(assets))
    ]
    plan = Plan.build("synthetic", streams)
    records, offsets = [], Counter()
    for w in plan.windows():
        p = int(w.asset[1:]) % 2
        records.append(Rec(cfg.kafka.input_topic, p, offsets[p], w.asset.encode(), serialize_window(w, "synthetic")))
        offsets[p] += 1
    run = score_offline(cfg, records)
    assert run.exit_code == 0 and run.scored == 400 and run.committed == dict(offsets)
    opened = [a for a in run.alerts if a["episode"]["event"] == "open"]
    assert {a["asset"] for a in opened} == {s.asset for s in streams}
    for a in opened:
        c = a["components"]
        assert a["score"] == pytest.approx(c["recon_mc"] + c["kl"], rel=1e-9)
        assert c["kl"] > 0
    direct = online.score(X[200:215]).score
    assert min(direct) > np.quantile(online.score(X_train[400:]).score, 0.99)
    np.testing.assert_array_equal(direct, OnlineModel.load_current(root).score(X[200:215]).score)


@pytest.mark.kafka
def test_the_daemon_on_the_broker_serves_a_vae_artifact(tmp_path_factory, make_config, start_daemon, kafka_bootstrap):
    from daemon.config import load_config
    from pipelines.fit import TrainSpec, fit_artifact

    root = tmp_path_factory.mktemp("vae-kafka")
    X = np.random.default_rng(0).normal(size=(1000, DIM))
    fit_artifact(X, root, TrainSpec(**SPEC, scorer="vae-recon-prob"), seed=0)
    path = make_config("vae", artifact={"root": str(root), "check_interval_s": 1})
    cfg = load_config(path)
    n = 600
    produce(kafka_bootstrap, cfg.kafka.input_topic, good_windows(n, DIM, anomaly_every=40))
    run = start_daemon(path)
    d = run.daemon
    run.wait_for(lambda: d.metrics.scored._value.get() >= n, what="every window scored")
    run.wait_for(lambda: d.commit_step.in_flight() == 0 and len(d.batcher) == 0, what="commit")
    assert d.model.model.model.variant.name == "vae"
    assert run.stop() == 0
    opens = [
        a
        for a in (orjson.loads(m.value) for m in read_all(kafka_bootstrap, cfg.kafka.alert_topic))
        if a["episode"]["event"] == "open"
    ]
    assert opens, "the injected anomalies raised no alert"
    for a in opens:
        assert a["score"] == pytest.approx(a["components"]["recon_mc"], rel=1e-9)
        assert a["score"] > a["threshold"]["value"]
