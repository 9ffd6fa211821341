"""Replay -> daemon -> alerts, on the real broker, against the same records scored offline by the daemon's chain."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e.conftest import E2E_ASSETS, compare_alerts, same_alert, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]


def test_replayed_windows_raise_the_offline_alerts_once_each(e2e, daemons, record_property):
    w = e2e()
    d = w.daemon("d1")
    daemons.append(d.start())
    d.wait_consuming()

    sent = w.replay("--assets", ",".join(E2E_ASSETS), "--inject-bad", "0.02", "--seed", "3")
    assert sent["errors"] == 0 and sent["acked"] == sent["messages"]
    assert set(sent["bad"]) == {
        "malformed_json",
        "not_utf8",
        "missing_field",
        "invalid_field",
        "wrong_length",
        "non_finite",
        "non_numeric",
        "unknown_schema",
        "oversized",
    }, sent

    w_ends = w.ends()
    assert sum(w_ends.values()) == sent["messages"]
    wait_until(w.caught_up, 180, "the daemon to commit every input offset", check=d.check_alive)
    m = d.metrics()
    assert d.stop() == 0, d.tail()

    live, dead = w.alerts(), w.dead_letters()
    off = w.offline()
    assert off.exit_code == 0
    c = compare_alerts(live, off.alerts)
    record_property(
        "counts",
        {"messages": sent["messages"], "windows": sent["windows"], "dead_letters": len(dead), "alerts": len(live), **c},
    )
    print(
        f"\nreplay->daemon: {sent['messages']} messages ({sent['windows']} windows, {len(dead)} dead letters) "
        f"at {sent['rate']}/s -> {len(live)} alerts; offline {len(off.alerts)}; {c['duplicates']} duplicates"
    )

    # Every window scored exactly once, every bad message dead-lettered once with the reason it was made for.
    assert m["latentwatch_windows_scored_total"] == sent["windows"]
    assert sum(v for k, v in m.items() if k.startswith("latentwatch_dead_letters_total")) == sum(sent["bad"].values())
    assert Counter(r for _, _, r in dead) == Counter(sent["bad"])
    assert sorted(dead) == off.dead_letters
    bad_offsets = {
        (r.partition, r.offset)
        for r in w.inputs()
        if b'"bad"' in (r.value or b"") or not (r.value or b"").startswith(b"{")
    }
    assert {(p, o) for p, o, _ in dead} == bad_offsets

    # The same alerts as offline: same ids, once each (happy path), same content.
    assert len(off.alerts) > 10, "the e2e artifact should alarm on SKAB's faults"
    assert not c["missing"] and not c["unexpected"] and c["duplicates"] == 0, c
    by_id = {a["alert_id"]: a for a in off.alerts}
    assert all(same_alert(a, by_id[a["alert_id"]]) for a in live)
    assert Counter(a["episode"]["event"] for a in live) == Counter(a["episode"]["event"] for a in off.alerts)
    # Windows carry their label into the alerts, for offline comparisons.
    assert all(a["meta"]["source"] == "skab" and a["meta"]["label"] in (0, 1) for a in live)
