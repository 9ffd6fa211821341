"""The offline run (daemon/offline.py): the daemon's own chain over in-memory Kafka stand-ins."""

from __future__ import annotations

from collections import Counter

import numpy as np

from latentwatch.replay import Plan, bad_message, serialize_window
from pipelines.sources import WindowStream
from tests.daemon.helpers import Rec


def test_offline_run_goes_through_the_daemons_chain(artifact_root, tmp_path):
    """The in-memory consumer and producer still fit the daemon (its surface moves as the daemon grows)."""
    from daemon.config import load_config
    from daemon.offline import score_offline
    from tests.daemon.conftest import DIM

    cfg_path = tmp_path / "d.yaml"
    cfg_path.write_text(
        f"artifact:\n  root: {artifact_root}\nthreshold:\n  method: spot\n  q: 0.001\n  level: 0.9\n"
        f"episodes:\n  quiet_windows: 2\n  update_every: 2\ndead_letter:\n  max_bytes: 4096\n"
        f"batching:\n  max_records: 50\n  max_in_flight: 100\n"
    )
    cfg = load_config(cfg_path)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, DIM))
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
    for i, w in enumerate(plan.windows()):
        p = int(w.asset[1:]) % 2
        bad = [bad_message("wrong_length", w, "x")] if i % 50 == 0 else []
        for value in [serialize_window(w, "synthetic"), *bad]:
            records.append(Rec(cfg.kafka.input_topic, p, offsets[p], w.asset.encode(), value))
            offsets[p] += 1
    run = score_offline(cfg, records)
    assert run.exit_code == 0 and run.scored == 400
    assert len(run.dead_letters) == 8 and {r for _, _, r in run.dead_letters} == {"wrong_length"}
    assert run.committed == dict(offsets)
    events = Counter(a["episode"]["event"] for a in run.alerts)
    assert events["open"] >= 4 and events["close"] >= 4
    assert len(run.alert_ids) == len(run.alerts)  # one id per alert
    again = score_offline(cfg, list(reversed(records)))  # another arrival order: partitions are re-sorted
    assert [a["alert_id"] for a in again.alerts] == [a["alert_id"] for a in run.alerts]
