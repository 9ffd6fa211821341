"""The e2e bench's latency bookkeeping (latentwatch/bench/e2e/latency.py) without a broker."""

from __future__ import annotations

from types import SimpleNamespace

from latentwatch.bench.e2e.latency import _latencies, _over_time


class Committed:
    def __init__(self, seen: dict[tuple[int, int], float]) -> None:
        self.seen = seen

    def seen_committed(self, p: int, o: int) -> float | None:
        return self.seen.get((p, o))


def test_a_commit_run_that_also_alarms_times_each_measure_against_its_own_windows():
    """Windows (partition, offset, input ts, delivered at); two of them alarm. The commit latencies and their input
    times line up one to one, whatever the alerts add (they used to share one list of times)."""
    raw = SimpleNamespace(rows=[(0, o, 1_000.0 + 100 * o, 1_005.0 + 100 * o) for o in range(6)])
    alerts = SimpleNamespace(rows=[(0, 1, 1_130.0, 1_140.0), (0, 4, 1_460.0, 1_470.0)])
    poller = Committed({(0, o): 1_050.0 + 100 * o for o in range(6)})
    lat = _latencies(raw, alerts, poller)
    assert lat["publish"] == [30.0, 60.0] and lat["publish_at"] == [1_100.0, 1_400.0]
    assert lat["commit"] == [50.0] * 6 and lat["commit_at"] == [1_000.0 + 100 * o for o in range(6)]
    over = _over_time(lat["commit_at"], lat["commit"], warmup_s=0.0)
    assert over["latency_ms_after_warmup"]["skip_s"] == 0.0 and over["worst_seconds"][0]["max_ms"] == 50.0
