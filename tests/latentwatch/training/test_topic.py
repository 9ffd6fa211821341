"""Training from a time range of a topic (latentwatch/training/topic.py, `latentwatch train --topic`).

The broker test replays real SKAB windows in three bursts, the middle one JSON and binary with bad messages mixed
in, and trains from the middle burst's time range only: the artifact holds exactly its good windows and the skipped
counts are its bad ones, by reason.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter

import numpy as np
import pytest
import yaml

from daemon.wire.binary_codec import serialize_binary
from daemon.wire.json_codec import serialize_json
from daemon.wire.schema import Reason
from latentwatch.training.topic import in_order, infer_width, message_width, parse_time
from latentwatch.training.user_data import reason_table
from tests.daemon.helpers import recs


def test_parse_time_reads_iso_with_and_without_zone_and_epoch_ms():
    assert parse_time("2026-01-01T00:00:00Z") == parse_time("2026-01-01T00:00:00") == 1_767_225_600_000
    assert parse_time("2026-01-01T01:00:00+01:00") == 1_767_225_600_000
    assert parse_time("1767225600000") == 1_767_225_600_000
    with pytest.raises(ValueError, match="not an ISO-8601 time or epoch ms: 'noon'"):
        parse_time("noon")


def test_the_width_is_the_most_common_among_json_and_binary_messages():
    good = [serialize_json("a", 1, [1.0, 2.0, 3.0]), serialize_binary("b", 2, [1.0, 2.0, 3.0])]
    bad = [serialize_json("a", 3, [1.0] * 4), b"{not json", serialize_binary("c", 4, [0.5] * 4)[:10]]
    assert [message_width(v, 4096) for v in good + bad] == [3, 3, 4, None, None]
    assert infer_width(recs(bad[:1] + good + bad[1:]), 4096) == 3
    with pytest.raises(ValueError, match="none of the first 2 messages"):
        infer_width(recs([b"{", None]), 4096)


def test_reason_table_lists_the_most_frequent_first_and_a_total():
    table = reason_table(Counter({"wrong_length": 2, "malformed_json": 5}))
    assert table.splitlines() == [
        "reason          skipped",
        "malformed_json        5",
        "wrong_length          2",
        "total                 7",
    ]


@pytest.mark.kafka
def test_train_from_a_time_range_of_a_topic(kafka_bootstrap, kafka_topics, tmp_path, capsys):
    from kafka import KafkaProducer

    from latentwatch.cli import main
    from latentwatch.replay import Plan, producer_settings, replay
    from pipelines.online import OnlineModel
    from pipelines.sources import WindowSpec, streams

    topic = kafka_topics("train-range", partitions=3)
    plan = Plan.build("skab", streams("skab", None, WindowSpec(10, 5))[:4])
    producer = KafkaProducer(**producer_settings([kafka_bootstrap], linger_ms=5))

    def burst(**kw):
        rep = replay(producer, topic, plan, **kw)
        assert rep.errors == 0
        time.sleep(0.3)
        return rep

    def now_ms() -> int:
        t = int(time.time() * 1000)
        time.sleep(0.3)
        return t

    try:
        burst(limit=100)
        start = now_ms()
        inside = [
            burst(limit=250, inject_bad=0.15, max_bytes=4096, seed=3),
            burst(limit=150, inject_bad=0.1, max_bytes=4096, seed=4, encoding="binary"),
        ]
        end = now_ms()
        burst(limit=120)
    finally:
        producer.close(10)
    bad = sum((r.bad for r in inside), Counter())
    assert Reason.OVERSIZED in bad and Reason.WRONG_LENGTH in bad and len(bad) >= 8
    config = tmp_path / "daemon.yaml"
    config.write_text(
        yaml.safe_dump({"kafka": {"bootstrap_servers": [kafka_bootstrap]}, "dead_letter": {"max_bytes": 4096}})
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text("hidden: [8]\nlatent: 2\nn_trees: 3\nk: 5\nepochs: 1\n")
    names = [f"s{j}" for j in range(plan.dim)]
    rc = main(
        [
            "train",
            "--topic",
            topic,
            "--from",
            str(start),
            "--to",
            str(end),
            "--config",
            str(config),
            "--spec",
            str(spec),
            "--out",
            str(tmp_path / "a"),
            "--feature-names",
            *names,
        ]
    )
    out = capsys.readouterr()
    assert rc == 0, out.err
    printed = json.loads(out.out.strip().splitlines()[-1])
    assert printed["windows"] == 400 and printed["skipped"] == dict(bad)
    table = dict(line.split() for line in out.err.splitlines() if line.split() and line.split()[0] in bad)
    assert {k: int(v) for k, v in table.items()} == dict(bad)
    m = OnlineModel.load_current(tmp_path / "a")
    assert m.manifest["windows"] == 400 and m.manifest["feature_names"] == names
    assert m.manifest["metrics"]["train_rows"] + m.manifest["metrics"]["val_rows"] == 400
    assert m.manifest["spec"]["split"] == "time" and m.manifest["source"] == f"topic:{topic}"
    assert m.manifest["input"]["records"] == 400 + sum(bad.values())
    first = list(itertools.islice(plan.windows(), 250))  # each burst replays the plan from its start
    assert set(m.manifest["assets"]) == {w.asset for w in first} and len(m.manifest["assets"]) >= 2
    later = end + 3_600_000
    assert (
        main(
            [
                "train",
                "--topic",
                topic,
                "--from",
                str(later),
                "--to",
                str(later + 1000),
                "--config",
                str(config),
                "--spec",
                str(spec),
                "--out",
                str(tmp_path / "none"),
            ]
        )
        == 2
    )
    assert f"no valid window in {topic} between {later} and {later + 1000} ms (0 records" in capsys.readouterr().err


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_in_order_is_the_stacked_parts_sorted(dtype):
    rng = np.random.default_rng(0)
    parts = [rng.normal(size=(m, 3)).astype(np.float32) for m in (5, 1, 9, 4)]
    want = np.vstack(parts).astype(np.float64)
    order = np.argsort(rng.integers(0, 6, size=len(want)), kind="stable")
    got = in_order(list(parts), order, 3, dtype)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want[order])
