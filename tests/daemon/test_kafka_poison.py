"""No message can stop the daemon: each poison message of issue 9, on the real broker, ends in the dead-letter topic
with its reason (or, for an alert too large for the broker, as a truncated alert that says so) while the daemon
keeps consuming and commits everything."""

from __future__ import annotations

import time

import orjson
import pytest

from daemon.config import load_config
from daemon.wire.schema import Reason
from tests.daemon.conftest import DIM
from tests.daemon.helpers import window
from tests.daemon.kafka_io import all_committed, committed_and_end, good_windows, produce, read_all

pytestmark = pytest.mark.kafka

ALARM = [25.0] * DIM  # far outside the artifact's normal: every such window alarms
BROKER_LIMIT = 1_048_576  # the producer's max_request_size default, below the broker's message.max.bytes


def _now_ms() -> int:
    return int(time.time() * 1000)


def _raw(asset: str, meta: bytes) -> bytes:
    """A window written by hand, so numbers stay as the producer spelled them (orjson would expand 1e15)."""
    return (
        f'{{"schema":1,"asset":"{asset}","ts":1714564800000,"values":['.encode()
        + b",".join([b"25.0"] * DIM)
        + b'],"meta":'
        + meta
        + b"}"
    )


BIG_META = b'{"x":[' + b",".join([b"1e15"] * 60_000) + b"]}"  # 300 kB; 1.14 MB as orjson writes it back


def _deep_meta(levels: int) -> bytes:
    head = b'{"schema":1,"asset":"deep","ts":1714564800000,"values":[' + b",".join([b"25.0"] * DIM) + b'],"meta":{"a":'
    return head + b"[" * levels + b"1" + b"]" * levels + b"}}"


POISON = {
    # JSON nested past every parser's recursion limit: RecursionError in the standard library's parser
    "deep-1100": (_deep_meta(1100), Reason.MALFORMED_JSON),
    # within orjson's parse limit but past what orjson writes (255): the alert could not be serialised
    "deep-300": (_deep_meta(300), Reason.INVALID_FIELD),
    # an ISO ts that is year 0 in UTC: ValueError when the alert formats it
    "year-0": (window("y0", ts="0001-01-01T00:00:00+23:59", values=ALARM, dim=DIM), Reason.INVALID_FIELD),
    # accepted as ISO while the same instant as epoch ms was refused; pins the episode watermark
    "iso-9999": (window("far", ts="9999-12-31T23:59:59Z", values=ALARM, dim=DIM), Reason.INVALID_FIELD),
    "ms-9999": (window("far", ts=253402300799000, values=ALARM, dim=DIM), Reason.INVALID_FIELD),
    # two days ahead of the record's broker timestamp (input.ts_max_ahead_s: one day)
    "ahead-2d": (window("ahead", ts=_now_ms() + 2 * 86400_000, values=ALARM, dim=DIM), Reason.INVALID_FIELD),
    # a 300 kB input whose meta re-serialises (1e15 -> 1000000000000000.0) into an alert over the broker's limit
    "meta-300k": (_raw("big", BIG_META), Reason.INVALID_FIELD),
    # a lone surrogate, which orjson refuses, sends the message through the standard parser, which takes it and keeps
    # an integer past 64 bits as it is: orjson can write neither back into an alert
    "meta-surrogate": (_raw("su", b'{"s":"\\ud800","n":' + b"9" * 30 + b"}"), Reason.INVALID_FIELD),
    # ... and in the asset, the alert's Kafka key could not be encoded
    "asset-surrogate": (_raw("\\ud800x", b"{}"), Reason.INVALID_FIELD),
    # an invalid input so large that its dead letter (the bytes plus the reason headers) is over the limit
    "huge-invalid": (b"{not json" + b"x" * (1_048_389 - 9), Reason.MALFORMED_JSON),
}


def _config(make_config, name: str, **input_section):
    return make_config(
        name,
        dead_letter={"max_bytes": 1_048_576, "window": 1000, "max_ratio": 0.5, "max_consecutive": 200},
        input={"ts_max_ahead_s": 86400, **input_section},
    )


def test_no_poison_message_stops_the_daemon_each_is_dead_lettered_with_its_reason(
    make_config, start_daemon, kafka_bootstrap
):
    path = _config(make_config, "poison")
    cfg = load_config(path)
    good = good_windows(300, DIM, anomaly_every=30)
    soon = (b"soon", window("soon", ts=_now_ms() + 3600_000, values=[0.1] * DIM, dim=DIM))  # 1 h ahead: accepted
    items = good[:150] + [(k.encode(), v) for k, (v, _) in POISON.items()] + [soon] + good[150:]
    produce(kafka_bootstrap, cfg.kafka.input_topic, items)

    run = start_daemon(path)
    d = run.daemon
    dead_total = lambda: sum(d.metrics.dead_letters.labels(reason=r)._value.get() for r in Reason.ALL)  # noqa: E731
    run.wait_for(
        lambda: d.metrics.scored._value.get() + dead_total() >= len(items),
        timeout=90,
        what="every message scored or dead-lettered (counted at its commit)",
    )
    assert d.metrics.scored._value.get() == 301  # the good windows and the one an hour ahead
    assert run.stop() == 0
    committed, end = committed_and_end(kafka_bootstrap, cfg.kafka.group_id, cfg.kafka.input_topic)
    assert all_committed(committed, end) and sum(end.values()) == len(items)

    dead = {m.key.decode(): m for m in read_all(kafka_bootstrap, cfg.kafka.dead_letter_topic, expect=len(POISON))}
    assert sorted(dead) == sorted(POISON)
    for key, (value, reason) in POISON.items():
        h = dict(dead[key].headers)
        assert h["reason"].decode() == reason, (key, h)
        if key == "huge-invalid":  # cut to fit, and says so
            assert h["truncated"] == b"value" and int(h["original_bytes"]) == len(value)
            assert dead[key].value == value[: len(dead[key].value)] and len(dead[key].value) < len(value)
        else:
            assert dead[key].value == value and "truncated" not in h
    assert b"nest" in dict(dead["deep-1100"].headers)["detail"]
    assert b"ahead" in dict(dead["ahead-2d"].headers)["detail"]
    alerts = read_all(kafka_bootstrap, cfg.kafka.alert_topic)
    assert alerts and all(len(a.value) < BROKER_LIMIT for a in alerts)
    assert {orjson.loads(a.value)["asset"] for a in alerts} <= {f"asset-{i}" for i in range(5)}


def test_an_alert_over_the_broker_limit_is_truncated_to_fit_and_says_so(make_config, start_daemon, kafka_bootstrap):
    """meta bounds raised past the broker's limit on purpose: the alert's meta is dropped rather than the daemon."""
    path = _config(make_config, "bigalert", meta_max_bytes=4_000_000)
    cfg = load_config(path)
    value = _raw("big", BIG_META)
    produce(
        kafka_bootstrap,
        cfg.kafka.input_topic,
        good_windows(100, DIM, anomaly_every=0) + [(b"big", value)] + good_windows(20, DIM, anomaly_every=0),
    )
    run = start_daemon(path)
    d = run.daemon
    run.wait_for(lambda: d.metrics.scored._value.get() >= 121, timeout=90, what="every window scored and committed")
    assert run.stop() == 0
    big = [a for a in read_all(kafka_bootstrap, cfg.kafka.alert_topic) if a.key == b"big"]
    assert big, "the alarming window raised no alert"
    doc, h = orjson.loads(big[0].value), dict(big[0].headers)
    assert len(big[0].value) < BROKER_LIMIT
    assert doc["meta"] is None and doc["truncated"]["dropped"] == ["meta"]
    assert h["truncated"] == b"meta" and int(h["original_bytes"]) == doc["truncated"]["original_bytes"] > BROKER_LIMIT
    assert doc["asset"] == "big" and doc["score"] > doc["threshold"]["value"]


def test_a_dead_letter_is_cut_to_the_output_topics_own_limit(make_config, start_daemon, kafka_bootstrap, kafka_topics):
    """A dead-letter topic with max.message.bytes 200,000: a 500 kB dead letter fits the producer but not the topic,
    so the broker would refuse it after the send (exit 4, on every restart)."""
    small = kafka_topics("small-dl", partitions=1, configs={"max.message.bytes": "200000"})
    path = make_config(
        "smalldl",
        kafka={"dead_letter_topic": small},
        dead_letter={"max_bytes": 1_048_576, "window": 1000, "max_ratio": 0.5, "max_consecutive": 200},
    )
    cfg = load_config(path)
    value = b"{not json" + b"x" * 500_000
    produce(kafka_bootstrap, cfg.kafka.input_topic, good_windows(50, DIM, anomaly_every=0) + [(b"big", value)])
    run = start_daemon(path)
    d = run.daemon
    run.wait_for(
        lambda: (
            d.metrics.scored._value.get() >= 50
            and d.metrics.dead_letters.labels(reason=Reason.MALFORMED_JSON)._value.get() >= 1
        ),
        timeout=90,
        what="the windows scored and the big one dead-lettered",
    )
    assert d.record_limit == 200_000
    assert run.stop() == 0
    (dead,) = read_all(kafka_bootstrap, small, expect=1)
    h = dict(dead.headers)
    assert h["truncated"] == b"value" and int(h["original_bytes"]) == len(value) and len(dead.value) < 200_000
