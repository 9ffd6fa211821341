"""The daemon against the real broker (scripts/kafka.sh) with a real artifact (fit_artifact + OnlineModel)."""

from __future__ import annotations

import time
import urllib.request

import orjson
import pytest

from daemon.config import load_config
from daemon.wire.alert import alert_id
from daemon.wire.schema import Reason
from tests.daemon.conftest import DIM
from tests.daemon.helpers import checkpoint_as_format1, window
from tests.daemon.kafka_io import all_committed, committed_and_end, good_windows, produce, read_all

pytestmark = pytest.mark.kafka

BAD = [
    (b"{not json", Reason.MALFORMED_JSON),
    (b'{"schema": 1, "asset": "\xff", "ts": 1, "values": []}', Reason.NOT_UTF8),
    (orjson.dumps({"schema": 1, "asset": "x", "values": [0.0] * DIM}), Reason.MISSING_FIELD),
    (window("x", values=[0.0] * (DIM - 1), dim=DIM), Reason.WRONG_LENGTH),
    (
        b'{"schema":1,"asset":"x","ts":1,"values":[' + b",".join([b"NaN"] + [b"0"] * (DIM - 1)) + b"]}",
        Reason.NON_FINITE,
    ),
    (window("x", values=["NaN"] + [0.0] * (DIM - 1), dim=DIM), Reason.NON_FINITE),
    (window("x", values=["a"] + [0.0] * (DIM - 1), dim=DIM), Reason.NON_NUMERIC),
    (window("x", meta={"pad": "x" * 5000}, dim=DIM), Reason.OVERSIZED),
    (window("x", schema=2, dim=DIM), Reason.UNKNOWN_SCHEMA),
]


def counted(d) -> float:
    m = d.metrics
    return m.scored._value.get() + sum(m.dead_letters.labels(reason=r)._value.get() for r in Reason.ALL)


def http_get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_good_and_bad_windows_end_scored_dead_lettered_alerted_and_committed(
    make_config, start_daemon, kafka_bootstrap
):
    path = make_config("mixed")
    cfg = load_config(path)
    n = 1200
    good = good_windows(n, DIM, anomaly_every=40)
    bad = [(f"bad-{i}".encode(), v) for i, (v, _) in enumerate(BAD)]
    items = good[:600] + bad + good[600:]
    produce(kafka_bootstrap, cfg.kafka.input_topic, items)

    run = start_daemon(path)
    d = run.daemon
    run.wait_for(lambda: counted(d) >= n + len(BAD), what="every window scored or dead-lettered")
    run.wait_for(lambda: d.commit_step.in_flight() == 0 and len(d.batcher) == 0, what="commit")
    status, body = http_get(d.http.port, "/healthz")
    assert status == 200, body
    status, metrics = http_get(d.http.port, "/metrics")
    assert status == 200
    assert b"latentwatch_windows_scored_total 1200.0" in metrics
    assert b'latentwatch_dead_letters_total{reason="non_finite"} 2.0' in metrics
    assert b"latentwatch_batch_latency_seconds_bucket" in metrics
    assert b'latentwatch_artifact_info{dim="8"' in metrics
    assert run.stop() == 0

    assert d.metrics.scored._value.get() == n
    dead = read_all(kafka_bootstrap, cfg.kafka.dead_letter_topic, expect=len(BAD))
    assert len(dead) == len(BAD)
    by_key = {m.key: m for m in dead}
    produced = {k: v for k, v in items}
    src = read_all(kafka_bootstrap, cfg.kafka.input_topic, expect=len(items))
    for i, (value, reason) in enumerate(BAD):
        m = by_key[f"bad-{i}".encode()]
        h = dict(m.headers)
        assert m.value == value
        assert h["reason"].decode() == reason, (i, h)
        assert h["detail"] and h["dead_lettered_at"]
        assert h["source_topic"].decode() == cfg.kafka.input_topic
        origin = [r for r in src if r.partition == int(h["source_partition"]) and r.offset == int(h["source_offset"])]
        assert len(origin) == 1 and origin[0].value == produced[m.key]

    alerts = [orjson.loads(m.value) for m in read_all(kafka_bootstrap, cfg.kafka.alert_topic)]
    assert alerts, "the injected anomalies raised no alert"
    opens = [a for a in alerts if a["episode"]["event"] == "open"]
    assert opens
    for a in opens:
        s = a["source"]
        assert a["alert_id"] == alert_id(s["topic"], s["partition"], s["offset"], "open")
        assert a["score"] > a["threshold"]["value"]
        assert a["threshold"]["method"] == "spot" and a["threshold"]["n_peaks"] > 0
        assert set(a["components"]) and len(a["neighbours"]) > 0
        assert a["artifact_version"] == d.model.model.version
    assert len({a["alert_id"] for a in alerts}) == len(alerts)

    committed, end = committed_and_end(kafka_bootstrap, cfg.kafka.group_id, cfg.kafka.input_topic)
    assert all_committed(committed, end)
    assert sum(end.values()) == n + len(BAD)
    assert cfg.threshold.checkpoint_path.is_file()


def test_restart_continues_from_the_committed_offsets_and_the_checkpoint(make_config, start_daemon, kafka_bootstrap):
    path = make_config("restart")
    cfg = load_config(path)
    first = good_windows(400, DIM, anomaly_every=0, seed=2)
    produce(kafka_bootstrap, cfg.kafka.input_topic, first)
    run = start_daemon(path)
    run.wait_for(lambda: run.daemon.metrics.scored._value.get() >= 400, what="first 400")
    assert run.stop() == 0
    state = checkpoint_as_format1(cfg.threshold.checkpoint_path)
    n_after_first = sum(a["n"] for a in state["thresholds"]["assets"].values())
    assert set(state["thresholds"]["assets"]) == {f"asset-{i}" for i in range(5)}

    # later (right after the first 400 s: a year-long gap would pass threshold.idle_expiry_s and restart them)
    more = good_windows(150, DIM, anomaly_every=0, seed=3, start_ts=1_714_564_800_000 + 401_000)
    produce(kafka_bootstrap, cfg.kafka.input_topic, more)
    run2 = start_daemon(path)
    d2 = run2.daemon
    run2.wait_for(lambda: d2.metrics.scored._value.get() >= 150, what="the 150 new windows")
    time.sleep(1.0)  # anything re-read would show up here
    assert run2.stop() == 0
    assert d2.metrics.consumed._value.get() == 150
    state2 = checkpoint_as_format1(cfg.threshold.checkpoint_path)
    n_after_second = sum(a["n"] for a in state2["thresholds"]["assets"].values())
    assert n_after_first < n_after_second <= n_after_first + 150  # continued, not restarted from calibration
    committed, end = committed_and_end(kafka_bootstrap, cfg.kafka.group_id, cfg.kafka.input_topic)
    assert all_committed(committed, end) and sum(end.values()) == 550


def test_dead_letter_limit_stops_the_daemon_loudly_after_committing_what_it_processed(
    make_config, start_daemon, kafka_bootstrap
):
    """Exit 3, with the batch that tripped the guard (and every one before it) committed and checkpointed: a restart
    goes on from there, so no dead letter is published twice (under Restart=on-failure each restart re-published
    the whole batch's, 600 -> 1,200 -> 1,800, and its good windows were never committed)."""
    from daemon.service import EXIT_DEAD_LETTER_LIMIT

    path = make_config(
        "dlqlimit",
        batching={"max_records": 100, "max_wait_ms": 50, "max_in_flight": 2000},
        dead_letter={"max_bytes": 4096, "window": 100, "max_ratio": 0.5, "max_consecutive": 30},
    )
    cfg = load_config(path)
    produce(kafka_bootstrap, cfg.kafka.input_topic, good_windows(50, DIM, anomaly_every=0) + [(b"k", b"garbage")] * 400)

    def run_until_the_guard_trips() -> tuple[dict[int, int], float]:
        run = start_daemon(path)
        run.thread.join(60)
        assert run.rc == EXIT_DEAD_LETTER_LIMIT
        d = run.daemon
        processed = d.metrics.scored._value.get() + d.metrics.dead_letters.labels(reason="malformed_json")._value.get()
        return {tp.partition: o for tp, o in d.committed.items() if o}, processed  # 0: a partition it only based

    first, processed_1 = run_until_the_guard_trips()
    committed, end = committed_and_end(kafka_bootstrap, cfg.kafka.group_id, cfg.kafka.input_topic)
    assert {p: o for p, o in committed.items() if o} == first and sum(first.values()) == processed_1 > 0
    assert sum(first.values()) < sum(end.values())  # it stopped: the rest waits for a person
    dead_1 = read_all(kafka_bootstrap, cfg.kafka.dead_letter_topic)
    assert all(
        int(dict(m.headers)["source_offset"]) < first[int(dict(m.headers)["source_partition"])] for m in dead_1
    )  # a dead letter only for what was committed

    second, processed_2 = run_until_the_guard_trips()  # what systemd would do without RestartPreventExitStatus
    committed, _ = committed_and_end(kafka_bootstrap, cfg.kafka.group_id, cfg.kafka.input_topic)
    assert {p: o for p, o in committed.items() if o} == {**first, **second}
    assert sum({**first, **second}.values()) == processed_1 + processed_2
    dead = read_all(kafka_bootstrap, cfg.kafka.dead_letter_topic)
    sources = [(dict(m.headers)["source_partition"], dict(m.headers)["source_offset"]) for m in dead]
    assert len(dead) > len(dead_1) and len(set(sources)) == len(sources), "a dead letter was published twice"


def test_sighup_reload_applies_live_settings_and_keeps_the_old_config_on_error(
    make_config, start_daemon, kafka_bootstrap
):
    path = make_config("reload")
    run = start_daemon(path)
    d = run.daemon
    run.wait_for(lambda: d.phase == "consuming", what="consuming")
    text = path.read_text()
    path.write_text(
        text.replace("max_records: 500", "max_records: 123").replace("group_id: reload", "group_id: changed")
    )
    d.flags.reload.set()
    run.wait_for(lambda: d.batcher.max_records == 123, what="batching applied live")
    assert d.cfg.batching.max_records == 123
    assert d.cfg.kafka.group_id != "changed" and d.cfg.kafka.group_id.startswith("reload")
    path.write_text(text.replace("max_records: 500", "max_records: -1"))
    d.flags.reload.set()
    run.wait_for(lambda: not d.flags.reload.is_set(), what="reload handled")
    time.sleep(0.3)
    assert d.batcher.max_records == 123 and d.cfg.batching.max_records == 123
    assert run.stop() == 0


def test_a_new_current_version_is_swapped_in_while_consuming_and_a_tampered_one_is_refused(
    make_config, start_daemon, kafka_bootstrap, artifact_root, tmp_path
):
    import json
    import shutil

    from pipelines.artifact.store import resolve_current, set_current

    root = tmp_path / "artifacts"
    shutil.copytree(artifact_root, root)
    path = make_config("swap", artifact={"root": str(root), "check_interval_s": 0.2})
    cfg = load_config(path)
    run = start_daemon(path)
    d = run.daemon
    produce(kafka_bootstrap, cfg.kafka.input_topic, good_windows(100, DIM, anomaly_every=0))
    run.wait_for(lambda: d.metrics.scored._value.get() >= 100, what="first windows")
    old = d.model.model.version

    def publish_copy(name: str, tamper: bool = False) -> None:
        src = resolve_current(root)
        dst = root / "versions" / name
        shutil.copytree(src, dst)
        manifest = json.loads((dst / "manifest.json").read_text())
        manifest["version"] = name
        (dst / "manifest.json").write_text(json.dumps(manifest))
        set_current(root, name)
        if tamper:
            victim = next(p for p in sorted(dst.iterdir()) if p.name != "manifest.json")
            victim.write_bytes(victim.read_bytes() + b"x")

    publish_copy("v-next")
    run.wait_for(lambda: d.model.model.version == "v-next", what="the swap")
    publish_copy("v-tampered", tamper=True)
    run.wait_for(lambda: d.metrics.model_swaps.labels(outcome="refused")._value.get() >= 1, what="the refusal")
    produce(kafka_bootstrap, cfg.kafka.input_topic, good_windows(100, DIM, anomaly_every=0, seed=5))
    run.wait_for(lambda: d.metrics.scored._value.get() >= 200, what="windows after the swap")
    assert d.model.model.version == "v-next" != old
    assert run.stop() == 0
