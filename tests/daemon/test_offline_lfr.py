"""The daemon serves an AE-LFR artifact from its config (issue 13): training variant lfr, scorer lfr (S_B), loaded
by OnlineModel from safetensors and JSON, scored through the daemon's own chain (daemon/offline.py)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from latentwatch.replay import Plan, serialize_window
from pipelines.sources import WindowStream
from tests.daemon.conftest import DIM
from tests.daemon.helpers import Rec


@pytest.fixture(scope="module")
def lfr_root(tmp_path_factory):
    from pipelines.fit import TrainSpec, fit_artifact

    root = tmp_path_factory.mktemp("lfr-artifacts")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 3)) @ rng.normal(size=(3, DIM)) + 0.05 * rng.normal(size=(1000, DIM))
    spec = TrainSpec(hidden=(16,), latent=4, epochs=15, patience=5, device="cpu", k=5, variant="lfr", scorer="lfr")
    fit_artifact(X, root, spec, seed=0)
    return root, X


def test_the_daemon_scores_an_lfr_artifact_with_the_decoder_fed_a_t_a_z(lfr_root, tmp_path):
    from daemon.config import load_config
    from daemon.offline import score_offline
    from pipelines.online import OnlineModel

    root, X_train = lfr_root
    online = OnlineModel.load_current(root)
    assert online.model.variant.name == "lfr" and online.scorer.name == "lfr"
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
        assert a["score"] == pytest.approx(a["components"]["lfr_error"], rel=1e-9)
        assert a["components"]["lfr_error"] != pytest.approx(a["components"]["recon_error"])
    direct = online.score(X[200:215]).score
    assert min(direct) > np.quantile(online.score(X_train[400:]).score, 0.99)
