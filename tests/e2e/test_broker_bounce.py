"""The broker stops and starts in the middle of a run: the daemon (the same process) reconnects and loses nothing."""

from __future__ import annotations

import json
import time

import orjson
import pytest

from tests.e2e.conftest import compare_alerts, same_alert, same_window, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(600)]


def test_daemon_rides_out_a_broker_restart(e2e, daemons, kafka_broker_control, record_property):
    w = e2e()
    d = w.daemon("d1")
    daemons.append(d.start())
    d.wait_consuming()
    replay = w.replay_in_background(rate=150, inject_bad=0.01, seed=5)
    wait_until(
        lambda: sum(w.committed().values()) >= 1000, 120, "the daemon to commit 1000 offsets", check=d.check_alive
    )

    t0 = time.monotonic()
    kafka_broker_control.stop()
    time.sleep(3)
    d.check_alive()  # a retriable commit error while the broker is away is retried, never fatal
    kafka_broker_control.start()
    down_s = time.monotonic() - t0

    sent = replay.join()
    assert sent.errors == 0 and sent.acked == sent.messages, sent.summary()
    d.check_alive()
    wait_until(w.caught_up, 240, "the daemon to commit every input offset", check=d.check_alive)
    assert d.alive() and d.starts == 1, "the daemon must ride out the bounce without a restart"
    m = d.metrics()
    assert d.stop() == 0, d.tail()

    inputs = w.inputs()
    # The replay's idempotent producer wrote every window once, across the bounce.
    windows = [orjson.loads(r.value) for r in inputs if r.value.startswith(b"{") and b'"bad"' not in r.value]
    assert len(windows) == sent.windows == len({(x["asset"], x["ts"]) for x in windows})

    live, dead = w.alerts(), w.dead_letters()
    off = w.offline()
    assert off.exit_code == 0 and off.scored == sent.windows
    c = compare_alerts(live, off.alerts)
    counts = {
        "messages": sent.messages,
        "windows": sent.windows,
        "scored": m["latentwatch_windows_scored_total"],
        "dead_letters": len(dead),
        "dead_letter_duplicates": len(dead) - len(set(dead)),
        "alerts": len(live),
        "expected_alerts": len(off.alerts),
        "alert_duplicates": c["duplicates"],
        "broker_down_s": round(down_s, 1),
        "membership_lost": bool(d.events("partitions_lost") or d.events("commit_rejected_after_rebalance")),
    }
    record_property("counts", counts)
    print(f"\nbroker bounce: {json.dumps(counts)}")
    # Nothing lost: every bad message dead-lettered, every offline alert published, with the same content.
    assert {(p, o) for p, o, _ in dead} == {(p, o) for p, o, _ in off.dead_letters}
    assert not c["missing"] and not c["unexpected"], c
    by_id = {a["alert_id"]: a for a in off.alerts}
    if counts["membership_lost"]:
        # Batches in flight when the member was forgotten are scored again by thresholds and episodes that have
        # already seen them, so an alert id can land in another episode than offline; the window's facts hold.
        assert all(same_window(a, by_id[a["alert_id"]]) for a in live)
    else:
        assert all(same_alert(a, by_id[a["alert_id"]]) for a in live)
    # Reprocessing is allowed (at-least-once): when the outage outlasts the session timeout the broker forgets the
    # member, its last commit is refused and the in-flight batches are consumed again. Without that, nothing twice.
    assert m["latentwatch_windows_scored_total"] >= sent.windows
    if not counts["membership_lost"]:
        assert m["latentwatch_windows_scored_total"] == sent.windows
        assert c["duplicates"] == 0 and len(dead) == len(set(dead))
