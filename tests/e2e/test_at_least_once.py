"""At-least-once under SIGKILL: the daemon is killed at random points while a replay runs, restarted each time, and at
the end every input offset is committed, every bad message is dead-lettered, every alert the offline run expects is
in the alert topic, and the duplicates a crash leaves behind repeat the same id with the same content.

A kill between a commit and the checkpoint that follows it leaves the checkpoint behind the group's offsets. The
restart seeks each partition back to the checkpoint's offsets (docs/operations.md, "Crash consistency"), so the
restored state sees every window again and the alerts still match the offline run. The test counts those restarts
(``stale_restarts``) to show the path was taken; any difference in the alerts fails, whatever the restarts were.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter

import pytest

from tests.e2e.conftest import compare_alerts, same_alert, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(600)]

KILLS = int(os.environ.get("LATENTWATCH_E2E_KILLS", "3"))  # 3-5; each restart re-imports torch (seconds)


def _checkpoint_offsets(path) -> dict[int, int]:
    from daemon import checkpoint

    try:
        state = checkpoint.load(path) or {}
    except ValueError:  # replaced while read
        return {}
    return {int(k.rsplit(":", 1)[1]): int(v) for k, v in state.get("committed", {}).items()}


def test_kill9_at_random_points_loses_nothing(e2e, daemons, record_property):
    seed = int(os.environ.get("LATENTWATCH_E2E_SEED", time.time_ns() % 10**6))
    rng = random.Random(seed)
    w = e2e()
    d = w.daemon("d1")
    state_file = w.tmp / "d1-state.json"
    daemons.append(d.start())
    d.wait_consuming()
    # The data set loops (time stamps moving on) until the kills are done, so the daemon always has work when it
    # comes back, however long a restart takes on a busy machine.
    replay = w.replay_in_background(rate=100, inject_bad=0.01, seed=seed, loop=True, limit=40_000)

    kills: list[dict] = []
    total = lambda offsets: sum(offsets.values())  # noqa: E731
    base = w.committed()  # the group's offsets when this process generation started
    for k in range(KILLS):
        # While it was down (and starting: seconds on a busy machine) a backlog built up; kill it at a random point
        # of working through it, when batches with alerts and dead letters are in flight.
        start, backlog_end = total(w.committed()), total(w.ends())
        target = start + max(1, int(rng.uniform(0.1, 0.9) * (backlog_end - start)))
        wait_until(
            lambda t=target: total(w.committed()) >= t,
            120,
            f"progress to offset sum {target} (kill {k + 1})",
            check=d.check_alive,
            poll_s=0.1,
        )
        if backlog_end - start < 200:  # no real backlog (first start): let it run a random while instead
            time.sleep(rng.uniform(0.2, 3.0))
        d.check_alive()
        d.kill9()
        group, ckpt = w.committed(), _checkpoint_offsets(state_file)
        # partitions this generation never committed keep the offsets it started from
        stale = {p: (ckpt.get(p, base.get(p)), o) for p, o in group.items() if ckpt.get(p, base.get(p)) != o}
        kills.append(
            {
                "committed": total(group),
                "produced": total(w.ends()),
                "backlog": backlog_end - start,
                "checkpoint_behind_commit": stale,
            }
        )
        base = group
        d.start()
        d.wait_consuming()

    replay.stop()
    sent = replay.join()
    assert sent.errors == 0 and sent.acked == sent.messages, sent.summary()
    wait_until(w.caught_up, 240, "the daemon to commit every input offset", check=d.check_alive)
    assert d.stop() == 0, d.tail()
    assert d.starts == KILLS + 1 and len(d.events("stopped")) == 1

    # Every input offset committed: the group is at the end of every partition.
    assert w.committed() == {p: o for p, o in w.ends().items() if o}

    # Every bad message dead-lettered, at least once, with the reason it was made for.
    inputs = w.inputs()
    dead = w.dead_letters()
    bad = {(r.partition, r.offset): r for r in inputs if not (r.value or b"").startswith(b"{") or b'"bad"' in r.value}
    assert len(bad) == sum(sent.bad.values())
    assert {(p, o) for p, o, _ in dead} == set(bad)
    assert Counter(reason for _, _, reason in set(dead)) == Counter(sent.bad)

    # Alerts: duplicates repeat the same id with the same content; the offline run's alerts are all there.
    live = w.alerts()
    off = w.offline()
    assert off.exit_code == 0 and off.scored == sent.windows
    c = compare_alerts(live, off.alerts)
    stale_restarts = sum(1 for k in kills if k["checkpoint_behind_commit"])
    counts = {
        "seed": seed,
        "kills": KILLS,
        "messages": sent.messages,
        "windows": sent.windows,
        "bad": sum(sent.bad.values()),
        "dead_letters": len(dead),
        "dead_letter_duplicates": len(dead) - len(set(dead)),
        "alerts": len(live),
        "distinct_alerts": c["distinct_live"],
        "expected_alerts": len(off.alerts),
        "alert_duplicates": c["duplicates"],
        "missing": len(c["missing"]),
        "unexpected": len(c["unexpected"]),
        "stale_restarts": stale_restarts,
        "at_kill": kills,
    }
    record_property("counts", counts)
    print(f"\nkill -9 x{KILLS}: {json.dumps(counts)}")
    assert len(off.alerts) > 10

    by_id = {a["alert_id"]: a for a in off.alerts}
    first: dict[str, dict] = {}
    differ = []
    for a in live:
        if a["alert_id"] in first and not same_alert(a, first[a["alert_id"]]):
            differ.append((first[a["alert_id"]], a))
        first.setdefault(a["alert_id"], a)
        if a["alert_id"] in by_id and not same_alert(a, by_id[a["alert_id"]]):
            differ.append((by_id[a["alert_id"]], a))
    problems = {"missing": c["missing"][:5], "unexpected": c["unexpected"][:5], "differ": differ[:3]}
    assert not (c["missing"] or c["unexpected"] or differ), (
        f"alerts differ from the offline run ({stale_restarts} of {KILLS} restarts restored a checkpoint behind the "
        f"committed offsets): {problems}; counts {counts}"
    )
