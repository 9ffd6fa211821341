"""The replay producer (latentwatch/replay/, `latentwatch replay`).

Pure logic (merge order, messages, bad messages, pacing, flag resolution) runs without a broker; what the producer
writes is checked on the real broker (marked kafka).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict

import numpy as np
import orjson
import pytest

from daemon.wire.records import decode_batch
from daemon.wire.schema import Reason
from latentwatch.replay import (
    BAD_KINDS,
    ENCODINGS,
    Pacer,
    Plan,
    Window,
    bad_message,
    merge_order,
    read_manifest,
    select_assets,
    serialize_window,
    usable_bad_kinds,
)
from pipelines.sources import WindowSpec, WindowStream
from tests.daemon.helpers import Rec


def stream(asset: str, ts: list[int], dim: int = 3, label_from: int | None = None) -> WindowStream:
    n = len(ts)
    X = np.arange(n * dim, dtype=np.float64).reshape(n, dim) / 7.0
    y = np.zeros(n, dtype=np.int64) if label_from is None else (np.arange(n) >= label_from).astype(np.int64)
    return WindowStream(asset, X, y, np.asarray(ts, dtype=np.int64))


# -- order ----------------------------------------------------------------------------------------------------------


def test_merge_by_time_keeps_each_assets_order():
    a = [1000, 2000, 3000, 4000]
    b = [1500, 2000, 2500]
    c = [500, 5000, 4500, 6000]  # a clock that steps back: still sent in its own order
    sid, rid = merge_order([np.array(a), np.array(b), np.array(c)])
    order = list(zip(sid.tolist(), rid.tolist(), strict=True))
    assert len(order) == 11
    for s in range(3):
        assert [r for q, r in order if q == s] == sorted(r for q, r in order if q == s)
    key = {0: a, 1: b, 2: np.maximum.accumulate(c)}
    times = [key[s][r] for s, r in order]
    assert times == sorted(times)
    assert order[:3] == [(2, 0), (0, 0), (1, 0)]
    assert order[3:5] == [(0, 1), (1, 1)]  # equal times: asset order


def test_plan_filters_assets_and_loops_with_time_moving_on():
    streams = [
        stream("skab/valve1/0", [1000, 2000]),
        stream("skab/valve1/1", [1500, 2500]),
        stream("skab/other/3", [3000]),
    ]
    plan = Plan.build("skab", streams, ["skab/valve1/*"])
    assert [s.asset for s in plan.streams] == ["skab/valve1/0", "skab/valve1/1"] and len(plan) == 4
    with pytest.raises(ValueError, match="no asset matches"):
        select_assets([s.asset for s in streams], ["nope/*"])
    it = plan.windows(loop=True)
    got = [next(it) for _ in range(10)]
    assert [w.loop for w in got] == [0] * 4 + [1] * 4 + [2] * 2
    assert plan.loop_shift_ms() == 2500
    per_asset = defaultdict(list)
    for w in got:
        per_asset[w.asset].append(w.ts_ms)
    for ts in per_asset.values():
        assert ts == sorted(ts) and len(set(ts)) == len(ts)
    assert [w.ts_ms for w in got[4:8]] == [1000 + 2500, 1500 + 2500, 2000 + 2500, 2500 + 2500]
    first_pass = [(w.asset, w.ts_ms, w.index) for w in got[:4]]
    assert [(w.asset, w.ts_ms, w.index) for w in plan.windows(loop=False)] == first_pass


# -- messages -------------------------------------------------------------------------------------------------------


def test_a_window_message_is_what_the_daemon_decodes():
    s = stream("pump-1", [1714564800000, 1714564801000], dim=4, label_from=1)
    plan = Plan.build("snsr", [s])
    msgs = [serialize_window(w, "snsr") for w in plan.windows()]
    doc = orjson.loads(msgs[1])
    assert doc == {
        "schema": 1,
        "asset": "pump-1",
        "ts": 1714564801000,
        "values": s.X[1].tolist(),
        "meta": {"source": "snsr", "label": 1, "index": 1},
    }
    dec = decode_batch([Rec("t", 0, i, b"pump-1", m) for i, m in enumerate(msgs)], dim=4, max_bytes=4096)
    assert not dec.rejected
    np.testing.assert_array_equal(dec.windows.values, s.X.astype(np.float32))
    assert dec.windows.asset == ["pump-1", "pump-1"] and dec.windows.ts_ms.tolist() == s.ts_ms.tolist()
    looped = serialize_window(Window("pump-1", 5, s.X[0], 0, 0, 3), "snsr")
    assert orjson.loads(looped)["meta"]["loop"] == 3


def test_binary_and_json_replays_decode_to_the_same_windows():
    s = stream("pump-1", [1714564800000, 1714564801000, 1714564802000], dim=4, label_from=1)
    plan = Plan.build("snsr", [s])
    decoded = [
        decode_batch(
            [Rec("t", 0, i, b"pump-1", serialize_window(w, "snsr", enc)) for i, w in enumerate(plan.windows())],
            dim=4,
            max_bytes=4096,
        )
        for enc in ENCODINGS
    ]
    assert all(not d.rejected for d in decoded)
    json_w, bin_w = (d.windows for d in decoded)
    np.testing.assert_array_equal(json_w.values, bin_w.values)
    assert json_w.asset == bin_w.asset and json_w.meta == bin_w.meta
    assert json_w.ts_ms.tolist() == bin_w.ts_ms.tolist()


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_each_bad_message_is_dead_lettered_for_its_own_reason(kind):
    w = Window("pump-1", 1714564800000, np.linspace(-1, 1, 6), 0, 0, 0)
    value = bad_message(kind, w, "skab", oversized_bytes=2049)
    dec = decode_batch([Rec("t", 0, 0, b"pump-1", value)], dim=6, max_bytes=2048)
    assert len(dec.rejected) == 1 and len(dec.windows) == 0
    assert dec.rejected[0][1].reason == kind


def test_oversized_is_only_made_when_the_broker_would_take_it():
    kinds, note = usable_bad_kinds(BAD_KINDS, None)
    assert Reason.OVERSIZED not in kinds and "max_bytes" in note and len(kinds) == len(BAD_KINDS) - 1
    kinds, note = usable_bad_kinds(BAD_KINDS, 1_048_576)
    assert Reason.OVERSIZED not in kinds
    kinds, note = usable_bad_kinds(BAD_KINDS, 16384)
    assert kinds == BAD_KINDS and note is None
    with pytest.raises(ValueError, match="unknown dead-letter kind"):
        usable_bad_kinds(["sideways"], None)


def test_pacer_sleeps_only_when_ahead():
    now = [0.0]
    slept = []

    def sleep(s):
        slept.append(round(s, 6))
        now[0] += s

    p = Pacer(100.0, clock=lambda: now[0], sleep=sleep)
    for i in range(5):
        p.wait(i)
    assert slept == [0.01, 0.01, 0.01, 0.01]
    now[0] += 1.0  # fell behind: no sleeping until the schedule catches up
    slept.clear()
    for i in range(5, 100):
        p.wait(i)
    assert sum(slept) < 0.01 + 1e-9
    Pacer(None).wait(10**9)  # no rate: never waits
    with pytest.raises(ValueError):
        Pacer(0.0)


# -- flags ----------------------------------------------------------------------------------------------------------


def _args(**kw) -> argparse.Namespace:
    from latentwatch.commands.replay import add_arguments

    p = argparse.ArgumentParser()
    add_arguments(p)
    argv = []
    for k, v in kw.items():
        argv += [f"--{k.replace('_', '-')}"] + ([] if v is True else [str(v)])
    return p.parse_args(argv)


def _version_dir(tmp_path, **manifest):
    d = tmp_path / "v1"
    d.mkdir()
    (d / "manifest.json").write_text(json.dumps({"version": "v1", "dim": 40, **manifest}))
    return d


def test_the_window_spec_and_source_come_from_the_model(tmp_path):
    from latentwatch.commands.replay import resolve

    art = _version_dir(tmp_path, source="skab", window={"length": 20, "stride": 5, "mode": "summary"})
    assert read_manifest(art)["source"] == "skab"
    r = resolve(_args(artifact_root=art))
    assert r["source"] == "skab" and r["spec"] == WindowSpec(20, 5, "summary") and r["dim"] == 40
    assert r["topic"] == "latentwatch.windows" and r["bootstrap"] == ("127.0.0.1:19092",)
    assert resolve(_args(artifact_root=art, stride=5, topic="x", bootstrap="h:1,h:2"))["bootstrap"] == ("h:1", "h:2")
    with pytest.raises(ValueError, match="differs from the window the model"):
        resolve(_args(artifact_root=art, window=10))
    with pytest.raises(ValueError, match="trained on skab"):
        resolve(_args(artifact_root=art, source="snsr"))
    with pytest.raises(ValueError, match="give --source"):
        resolve(_args())
    assert resolve(_args(source="skab", window=30))["spec"] == WindowSpec(30, 1, "summary")


def test_the_config_gives_kafka_settings_and_the_artifact(tmp_path):
    from latentwatch.commands.replay import resolve

    art = _version_dir(tmp_path, source="snsr", window=None)
    cfg = tmp_path / "d.yaml"
    cfg.write_text(
        f"kafka:\n  bootstrap_servers: ['b:9']\n  input_topic: plant.windows\n"
        f"artifact:\n  path: {art}\ndead_letter:\n  max_bytes: 2048\n"
    )
    r = resolve(_args(config=cfg))
    assert r["bootstrap"] == ("b:9",) and r["topic"] == "plant.windows" and r["source"] == "snsr"
    assert r["max_bytes"] == 2048 and r["security"] == {"security_protocol": "PLAINTEXT"}


def test_cli_usage_errors_exit_2(capsys):
    from latentwatch.cli import main

    assert main(["replay", "--source", "skab", "--rate", "0"]) == 2
    assert "--rate must be positive" in capsys.readouterr().err
    assert main(["replay", "--source", "skab", "--bad-kinds", "sideways"]) == 2


# -- on the broker --------------------------------------------------------------------------------------------------


@pytest.mark.kafka
def test_replay_writes_keyed_ordered_windows_and_bad_ones(kafka_bootstrap, kafka_topics):
    from kafka import KafkaProducer

    from latentwatch.replay import producer_settings, replay
    from tests.e2e.conftest import read_all

    topic = kafka_topics("replay", partitions=4)
    streams = [stream(f"asset-{i}", list(range(1000 * i, 1000 * i + 50_000, 1000)), dim=5) for i in range(7)]
    plan = Plan.build("snsr", streams)
    producer = KafkaProducer(**producer_settings([kafka_bootstrap], linger_ms=5))
    try:
        rep = replay(producer, topic, plan, limit=300, inject_bad=0.1, max_bytes=4096, seed=1, record=True)
    finally:
        producer.close(10)
    assert rep.errors == 0 and rep.windows == 300 and rep.acked == rep.messages == 300 + sum(rep.bad.values())
    assert set(rep.bad) == set(BAD_KINDS) and 10 < sum(rep.bad.values()) < 60
    got = read_all(kafka_bootstrap, topic)
    assert [(r.partition, r.offset, r.value) for r in got] == [(s.partition, s.offset, s.value) for s in rep.sent]
    assert Counter(r.partition for r in got) == rep.partitions
    by_asset = defaultdict(list)
    for r in got:
        assert r.key.startswith(b"asset-")
        by_asset[r.key].append(r)
    for key, recs in by_asset.items():
        assert len({r.partition for r in recs}) == 1  # one asset, one partition
        good = [orjson.loads(r.value) for r in recs if r.value.startswith(b"{") and b'"bad"' not in r.value]
        assert [g["ts"] for g in good] == sorted(g["ts"] for g in good)
        assert all(g["asset"] == key.decode() for g in good)
    # the same partitions a plain keyed send picks (the replay computes them once per asset)
    p = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    try:
        for key, recs in by_asset.items():
            assert p.send(topic, key=key, value=b"{}").get(30).partition == recs[0].partition
    finally:
        p.close(10)
    # what the daemon would make of it
    dec = decode_batch(got, dim=5, max_bytes=4096)
    assert len(dec.windows) == 300
    assert Counter(e.reason for _, e in dec.rejected) == rep.bad
