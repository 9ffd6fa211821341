"""Two daemons in one consumer group split a 4-partition topic and, together, score every window exactly once."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import E2E_ASSETS, compare_alerts, same_alert, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(420)]


def _assigned(d) -> set[int]:
    """The partitions of this member's latest assignment, from its log."""
    events = d.events("partitions_assigned")
    return {int(p.rsplit(":", 1)[1]) for p in events[-1]["partitions"]} if events else set()


def test_two_daemons_split_the_partitions_and_score_each_window_once(e2e, daemons, record_property):
    w = e2e(partitions=4)
    d1, d2 = w.daemon("d1"), w.daemon("d2")
    daemons += [d1.start(), d2.start()]

    def split() -> bool:
        for d in (d1, d2):
            d.check_alive()
        a, b = d1.partitions(), d2.partitions()
        return a > 0 and b > 0 and a + b == 4 and not (_assigned(d1) & _assigned(d2))

    wait_until(split, 150, "both members to hold partitions")
    p1, p2 = _assigned(d1), _assigned(d2)
    assert p1 | p2 == {0, 1, 2, 3} and not p1 & p2

    sent = w.replay("--assets", ",".join(E2E_ASSETS), "--inject-bad", "0.02", "--seed", "11")
    wait_until(
        w.caught_up, 180, "the group to commit every input offset", check=lambda: (d1.check_alive(), d2.check_alive())
    )
    m1, m2 = d1.metrics(), d2.metrics()
    assert _assigned(d1) == p1 and _assigned(d2) == p2, "no rebalance during the run"
    assert d1.stop() == 0, d1.tail()
    assert d2.stop() == 0, d2.tail()

    ends = w.ends()
    scored1, scored2 = m1["latentwatch_windows_scored_total"], m2["latentwatch_windows_scored_total"]
    dl = lambda m: sum(v for k, v in m.items() if k.startswith("latentwatch_dead_letters_total"))  # noqa: E731
    live, dead = w.alerts(), w.dead_letters()
    off = w.offline()
    assert off.exit_code == 0 and off.scored == sent["windows"]
    c = compare_alerts(live, off.alerts)
    counts = {
        "messages": sent["messages"],
        "windows": sent["windows"],
        "partitions": {"d1": sorted(p1), "d2": sorted(p2)},
        "scored": {"d1": scored1, "d2": scored2},
        "dead_letters": {"d1": dl(m1), "d2": dl(m2)},
        "alerts": len(live),
        "expected_alerts": len(off.alerts),
        "alert_duplicates": c["duplicates"],
    }
    record_property("counts", counts)
    print(f"\nscale-out: {json.dumps(counts)}")

    # each member worked on its own partitions' data ...
    assert scored1 > 0 and scored2 > 0
    assert scored1 + dl(m1) == sum(ends.get(p, 0) for p in p1)
    assert scored2 + dl(m2) == sum(ends.get(p, 0) for p in p2)
    # ... and together: every window scored exactly once, every bad message dead-lettered once
    assert scored1 + scored2 == sent["windows"]
    assert dl(m1) + dl(m2) == sum(sent["bad"].values()) == len(dead) == len(set(dead))
    # the alerts are the offline run's, once each
    assert not c["missing"] and not c["unexpected"] and c["duplicates"] == 0, c
    by_id = {a["alert_id"]: a for a in off.alerts}
    assert all(same_alert(a, by_id[a["alert_id"]]) for a in live)
