"""A crash does not change the decisions: the same input gives the same alerts however often the daemon is killed.

The input is produced first; one daemon works through it while it is killed with SIGKILL ``KILLS`` times at seeded
random moments (before its first periodic checkpoint, between checkpoints, right after a restart), and a second one
runs through the same input uninterrupted on a fresh group, its own state file and its own alert topic. The design
is at-least-once with identical duplicates (daemon/checkpoint.py): the killed run may publish an id more than once,
every copy equal, and its alerts deduplicated by id are the uninterrupted run's, id for id and field for field
(floats to 1e-6 relative, a margin: the frozen model scores a window bit for bit the same in any batch,
pipelines/model/frozen.py).
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(900)]

KILLS = int(os.environ.get("LATENTWATCH_E2E_KILLS", "10"))
WINDOWS = int(os.environ.get("LATENTWATCH_E2E_KILL_WINDOWS", "40000"))  # at most; the replay stops after the kills
RATE = 400  # windows/s: slower than the daemon, so each kill finds it working through fresh input


def differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Where two alerts differ: every field exact, floats to 1e-6 relative."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{where}.{k}: only in one" for k in a.keys() ^ b.keys()]
        for k in a.keys() & b.keys():
            out += differences(a[k], b[k], f"{where}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items vs {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=False)) for d in differences(x, y, f"{where}[{i}]")]
    if isinstance(a, float) or isinstance(b, float):
        ok = (
            isinstance(a, (int, float))
            and isinstance(b, (int, float))
            and (math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b)))
        )
        return [] if ok else [f"{where}: {a!r} vs {b!r}"]
    return [] if a == b else [f"{where}: {a!r} vs {b!r}"]


def checkpoint_offsets(path: Path) -> dict[str, int]:
    from daemon import checkpoint

    try:
        return (checkpoint.load(path) or {}).get("committed", {})
    except ValueError:  # being replaced: atomic, but a reader may race the rename on some filesystems
        return {}


def by_id(alerts: list[dict]) -> tuple[dict[str, dict], list[str], int]:
    """Alerts by id, the ids whose copies differ (with how), and how many duplicates there were."""
    first: dict[str, dict] = {}
    conflicts, duplicates = [], 0
    for a in alerts:
        seen = first.setdefault(a["alert_id"], a)
        if seen is not a:
            duplicates += 1
            if d := differences(seen, a):
                where = (a["asset"], a["source"] and a["source"]["partition"], a["source"] and a["source"]["offset"])
                conflicts.append(f"{a['alert_id']} {where}: {d[:3]}")
    return first, conflicts, duplicates


def test_ten_kills_give_the_uninterrupted_runs_alerts(e2e, e2e_topics, daemons, record_property):
    seed = int(os.environ.get("LATENTWATCH_E2E_SEED", "9"))
    rng = random.Random(seed)
    w = e2e()
    # the input arrives while the daemon works (and is killed); both runs then read the same finished topic
    replay = w.replay_in_background(rate=RATE, inject_bad=0.01, seed=seed, loop=True, limit=WINDOWS)

    # checkpoint_interval_s 3: some lives end before their first periodic checkpoint, some after several
    killed = w.daemon("killed", threshold={"checkpoint_interval_s": 3.0})
    daemons.append(killed.start())
    kills = []
    for _ in range(KILLS):
        killed.wait_consuming()
        time.sleep(rng.uniform(0.2, 4.0))
        killed.check_alive()
        killed.kill9()
        kills.append({"committed": sum(w.committed().values()), "produced": sum(w.ends().values())})
        killed.start()
    replay.stop()
    sent = replay.join()
    assert sent.errors == 0 and sent.acked == sent.messages, sent.summary()
    killed.wait_consuming()
    # the group may be at the end already while the restored state is behind it: wait for the state's offsets too
    ends = {f"{w.topics.input}:{p}": o for p, o in w.ends().items() if o}
    wait_until(
        lambda: w.caught_up() and checkpoint_offsets(w.tmp / "killed-state.json") == ends,
        600,
        "the killed daemon to commit and checkpoint every input offset",
        check=killed.check_alive,
    )
    assert killed.stop() == 0, killed.tail()
    assert killed.starts == KILLS + 1
    live = w.alerts()

    clean_topics = e2e_topics("kill9-clean")
    clean = w.daemon(
        "clean",
        kafka={
            "group_id": f"{w.group}-clean",
            "alert_topic": clean_topics.alerts,
            "dead_letter_topic": clean_topics.dead,
        },
        threshold={"checkpoint_interval_s": 3.0},
    )
    daemons.append(clean.start())
    clean.wait_consuming()
    from tests.e2e.conftest import alerts_of, caught_up, read_all

    wait_until(
        lambda: caught_up(w.bootstrap, f"{w.group}-clean", w.topics.input),
        600,
        "the uninterrupted daemon to commit every input offset",
        check=clean.check_alive,
    )
    assert clean.stop() == 0, clean.tail()
    assert clean.starts == 1
    want = alerts_of(read_all(w.bootstrap, clean_topics.alerts))

    got, conflicts, duplicates = by_id(live)
    expected, clean_conflicts, clean_duplicates = by_id(want)
    missing, unexpected = sorted(expected.keys() - got.keys()), sorted(got.keys() - expected.keys())
    differ = [f"{i}: {d[:3]}" for i in sorted(expected.keys() & got.keys()) if (d := differences(got[i], expected[i]))]
    counts = {
        "seed": seed,
        "kills": KILLS,
        "windows": sent.windows,
        "committed_at_kills": kills,
        "alerts_published": len(live),
        "distinct": len(got),
        "duplicates": duplicates,
        "expected": len(expected),
        "missing": len(missing),
        "unexpected": len(unexpected),
        "differ": len(differ),
        "conflicting_copies": len(conflicts),
        "resumed_from_checkpoint": len(killed.events("resumed_from_checkpoint")),
    }
    record_property("counts", counts)
    print(f"\nkill -9 x{KILLS}, same decisions: {json.dumps(counts)}")
    assert len(expected) > 10 and not clean_conflicts and clean_duplicates == 0
    assert not conflicts, conflicts[:3]
    assert not missing and not unexpected, {"missing": missing[:5], "unexpected": unexpected[:5], **counts}
    assert not differ, differ[:3]
