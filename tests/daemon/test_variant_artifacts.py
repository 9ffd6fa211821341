"""The daemon serves an artifact of each training variant from its config (issue 13): AE-LFR (scorer lfr, the
decoder fed A^T A z), the VAE (vae-elbo, the negated ELBO over seeded Monte-Carlo draws; vae-recon-prob on the
broker) and the denoising AE with its error MLP (deae-mlp, |e - e'|). Each is loaded by OnlineModel from safetensors
and JSON, scored through the daemon's own chain over in-memory Kafka stand-ins (daemon/offline.py) and against the
real broker (scripts/kafka.sh); every alert's score must be the variant's own formula over its components. CANCE
(cance offline, cnce on the broker): -(G(c) + log p_n(c)), its estimation network's log-odds and noise log density."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import orjson
import pytest

from latentwatch.replay import Plan, serialize_window
from pipelines.sources import WindowStream
from tests.daemon.conftest import DIM
from tests.daemon.helpers import Rec
from tests.daemon.kafka_io import good_windows, produce, read_all

BASE = {"hidden": (16,), "latent": 4, "epochs": 15, "patience": 5, "device": "cpu", "k": 5}


def _lfr(alert: dict) -> None:
    c = alert["components"]
    assert alert["score"] == pytest.approx(c["lfr_error"], rel=1e-9)
    assert c["lfr_error"] != pytest.approx(c["recon_error"])


def _vae_elbo(alert: dict) -> None:
    c = alert["components"]
    assert alert["score"] == pytest.approx(c["recon_mc"] + c["kl"], rel=1e-9)
    assert c["kl"] > 0


def _vae_recon_prob(alert: dict) -> None:
    assert alert["score"] == pytest.approx(alert["components"]["recon_mc"], rel=1e-9)


def _deae_mlp(alert: dict) -> None:
    c = alert["components"]
    assert alert["score"] == pytest.approx(abs(c["recon_error"] - c["predicted_error"]), rel=1e-9)


def _nce(alert: dict) -> None:
    c = alert["components"]
    assert alert["score"] == pytest.approx(-(c["logodds"] + c["log_noise"]), rel=1e-9)
    assert c["log_noise"] < 0


@dataclass(frozen=True)
class Case:
    variant: str
    scorer: str  # served by the offline chain
    broker_scorer: str  # served on the broker
    check: Callable[[dict], None]
    broker_check: Callable[[dict], None]


CASES = [
    Case("lfr", "lfr", "lfr", _lfr, _lfr),
    Case("vae", "vae-elbo", "vae-recon-prob", _vae_elbo, _vae_recon_prob),
    Case("deae", "deae-mlp", "deae-mlp", _deae_mlp, _deae_mlp),
    Case("cance", "cance", "cnce", _nce, _nce),
]
IDS = [c.variant for c in CASES]


def _fit(root, X: np.ndarray, variant: str, scorer: str) -> None:
    from pipelines.fit import TrainSpec, fit_artifact

    fit_artifact(X, root, TrainSpec(**BASE, variant=variant, scorer=scorer), seed=0)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_daemon_scores_a_variant_artifact_by_its_own_formula(case: Case, tmp_path):
    from daemon.config import load_config
    from daemon.offline import score_offline
    from pipelines.online import OnlineModel

    root = tmp_path / "artifacts"
    rng = np.random.default_rng(0)
    X_train = rng.normal(size=(1000, 3)) @ rng.normal(size=(3, DIM)) + 0.05 * rng.normal(size=(1000, DIM))
    _fit(root, X_train, case.variant, case.scorer)
    online = OnlineModel.load_current(root)
    assert online.model.variant.name == case.variant and online.scorer.name == case.scorer
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
    records, offsets = [], Counter()
    for w in Plan.build("synthetic", streams).windows():
        p = int(w.asset[1:]) % 2
        records.append(Rec(cfg.kafka.input_topic, p, offsets[p], w.asset.encode(), serialize_window(w, "synthetic")))
        offsets[p] += 1
    run = score_offline(cfg, records)
    assert run.exit_code == 0 and run.scored == 400 and run.committed == dict(offsets)
    opened = [a for a in run.alerts if a["episode"]["event"] == "open"]
    assert {a["asset"] for a in opened} == {s.asset for s in streams}
    for a in opened:
        case.check(a)
    direct = online.score(X[200:215]).score
    assert min(direct) > np.quantile(online.score(X_train[400:]).score, 0.99)
    np.testing.assert_array_equal(direct, OnlineModel.load_current(root).score(X[200:215]).score)


@pytest.mark.kafka
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_daemon_on_the_broker_serves_a_variant_artifact(
    case: Case, tmp_path_factory, make_config, start_daemon, kafka_bootstrap
):
    from daemon.config import load_config

    root = tmp_path_factory.mktemp(f"{case.variant}-kafka")
    X = np.random.default_rng(0).normal(size=(1000, DIM))
    _fit(root, X, case.variant, case.broker_scorer)
    path = make_config(case.variant, artifact={"root": str(root), "check_interval_s": 1})
    cfg = load_config(path)
    n = 600
    produce(kafka_bootstrap, cfg.kafka.input_topic, good_windows(n, DIM, anomaly_every=40))
    run = start_daemon(path)
    d = run.daemon
    run.wait_for(lambda: d.metrics.scored._value.get() >= n, what="every window scored")
    run.wait_for(lambda: d.commit_step.in_flight() == 0 and len(d.batcher) == 0, what="commit")
    assert d.model.model.model.variant.name == case.variant
    assert run.stop() == 0
    opens = [
        a
        for a in (orjson.loads(m.value) for m in read_all(kafka_bootstrap, cfg.kafka.alert_topic))
        if a["episode"]["event"] == "open"
    ]
    assert opens, "the injected anomalies raised no alert"
    for a in opens:
        case.broker_check(a)
        assert a["score"] > a["threshold"]["value"]
