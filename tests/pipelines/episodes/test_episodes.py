import json

import numpy as np
import pytest

from pipelines.episodes import EpisodeEvent, EpisodeTracker, episode_id


def fault_stream(t0: float = 1_700_000_000.0, before: int = 60, fault: int = 300, after: int = 120):
    """1 Hz windows: normal, a five-minute fault (every window an alarm), normal again."""
    n = before + fault + after
    ts = t0 + np.arange(n, dtype=float)
    alarms = np.zeros(n, dtype=bool)
    alarms[before : before + fault] = True
    scores = np.where(alarms, 10.0 + np.sin(np.arange(n)), 1.0)
    scores[before + 123] = 99.0
    keys = [f"w{int(t)}" for t in ts]
    return ts, alarms, scores, keys


def only_events(pairs: list[tuple[int, EpisodeEvent]]) -> list[EpisodeEvent]:
    return [e for _, e in pairs]


def test_observe_batch_gives_each_event_with_the_index_of_its_window():
    tr = EpisodeTracker(quiet_windows=2, quiet_seconds=None, update_every=2)
    alarms = np.array([0, 1, 1, 0, 1, 0, 0, 0, 1], bool)
    got = tr.observe_batch(
        ["a"] * alarms.size,
        np.arange(alarms.size, dtype=float),
        alarms,
        np.ones(alarms.size),
        [str(i) for i in range(alarms.size)],
    )
    assert [(i, e.kind) for i, e in got] == [(1, "open"), (4, "update"), (6, "close"), (8, "open")]
    one_by_one = [
        (i, tr2.observe("a", float(i), bool(a), 1.0, str(i)))
        for tr2 in [EpisodeTracker(quiet_windows=2, quiet_seconds=None, update_every=2)]
        for i, a in enumerate(alarms)
    ]
    assert got == [(i, e) for i, e in one_by_one if e is not None]


def test_five_minute_fault_is_one_episode():
    ts, alarms, scores, keys = fault_stream()
    tr = EpisodeTracker(quiet_windows=30, update_every=60)
    events = only_events(tr.observe_batch(["pump-1"] * ts.size, ts, alarms, scores, keys))
    kinds = [e.kind for e in events]
    assert kinds.count("open") == 1 and kinds.count("close") == 1
    assert kinds[0] == "open" and kinds[-1] == "close"
    assert kinds.count("update") == 299 // 60
    opened, closed = events[0], events[-1]
    assert opened.opened_ts == ts[60] and opened.n_alarms == 1
    assert closed.episode_id == opened.episode_id == episode_id("pump-1", keys[60])
    assert (closed.n_alarms, closed.last_ts, closed.max_score) == (300, ts[359], 99.0)
    assert tr.open_episodes() == {}


def test_close_comes_after_quiet_windows_and_short_gaps_do_not_split():
    tr = EpisodeTracker(quiet_windows=5, update_every=0)
    pattern = [1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    events = [(i, tr.observe("a", float(i), bool(a), 1.0, str(i))) for i, a in enumerate(pattern)]
    events = [(i, e) for i, e in events if e is not None]
    assert [(i, e.kind) for i, e in events] == [(0, "open"), (13, "close")]
    assert events[-1][1].n_alarms == 3 and events[-1][1].last_ts == 8.0


def test_quiet_seconds_and_sweep():
    tr = EpisodeTracker(quiet_windows=None, quiet_seconds=60.0)
    assert tr.observe("a", 0.0, True, 5.0, "k0").kind == "open"
    assert tr.observe("a", 59.0, False, 1.0, "k1") is None
    assert tr.observe("a", 60.0, False, 1.0, "k2").kind == "close"
    tr.observe("b", 100.0, True, 5.0, "k3")
    assert tr.sweep(159.0) == []
    (closed,) = tr.sweep(160.0)
    assert (closed.kind, closed.asset, closed.last_ts) == ("close", "b", 100.0)


def test_max_duration_closes_and_the_next_alarm_reopens():
    tr = EpisodeTracker(quiet_windows=10, max_duration_s=100.0, update_every=0)
    events = [tr.observe("a", float(t), True, 1.0, f"k{t}") for t in range(0, 250)]
    got = [(i, e.kind) for i, e in enumerate(events) if e is not None]
    assert got == [(0, "open"), (100, "close"), (101, "open"), (201, "close"), (202, "open")]
    assert events[100].n_alarms == 101


def test_interleaved_assets_are_independent():
    ts, alarms, scores, keys = fault_stream()
    tr = EpisodeTracker(quiet_windows=30, update_every=60)
    # asset b runs the same pattern 100 s later; windows of both assets interleave
    assets = ["a"] * ts.size + ["b"] * ts.size
    all_ts = np.concatenate([ts, ts + 100.0])
    order = np.argsort(all_ts, kind="stable")
    events = only_events(
        tr.observe_batch(
            [assets[i] for i in order],
            all_ts[order],
            np.concatenate([alarms, alarms])[order],
            np.concatenate([scores, scores])[order],
            [(keys + keys)[i] for i in order],
        )
    )
    single = only_events(
        EpisodeTracker(quiet_windows=30, update_every=60).observe_batch(["a"] * ts.size, ts, alarms, scores, keys)
    )
    assert [e for e in events if e.asset == "a"] == single
    b = [e for e in events if e.asset == "b"]
    assert [e.kind for e in b] == [e.kind for e in single]
    assert b[0].opened_ts == single[0].opened_ts + 100.0
    assert b[0].episode_id != single[0].episode_id  # same key, different asset


def test_ids_are_deterministic_across_replays_and_checkpoints():
    ts, alarms, scores, keys = fault_stream()
    first = EpisodeTracker(quiet_windows=30).observe_batch(["x"] * ts.size, ts, alarms, scores, keys)
    replay = EpisodeTracker(quiet_windows=30).observe_batch(["x"] * ts.size, ts, alarms, scores, keys)
    assert first == replay

    tr = EpisodeTracker(quiet_windows=30)
    head = tr.observe_batch(["x"] * 200, ts[:200], alarms[:200], scores[:200], keys[:200])
    assert all(i < 200 for i, _ in head)
    restored = EpisodeTracker.from_state(json.loads(json.dumps(tr.state())))
    tail = restored.observe_batch(["x"] * (ts.size - 200), ts[200:], alarms[200:], scores[200:], keys[200:])
    assert head + [(i + 200, e) for i, e in tail] == first


def test_event_is_frozen_and_errors():
    ev = EpisodeEvent("open", "id", "a", 1.0, 1.0, 1, 2.0)
    with pytest.raises(AttributeError):
        ev.kind = "close"  # type: ignore[misc]
    with pytest.raises(ValueError, match="need quiet_windows or quiet_seconds"):
        EpisodeTracker(quiet_windows=None, quiet_seconds=None)
    with pytest.raises(ValueError, match="lengths differ"):
        EpisodeTracker().observe_batch(["a"], np.zeros(2), np.zeros(2, bool), np.zeros(2), ["k", "l"])


def test_alert_fields_carry_every_field_of_the_event_but_the_asset():
    from dataclasses import asdict

    from pipelines.episodes.episodes import EpisodeEvent

    e = EpisodeEvent("update", "ep-1", "pump-3", 10.0, 12.5, 4, 7.25)
    expected = {k: v for k, v in asdict(e).items() if k not in ("kind", "asset")}
    assert e.alert_fields() == {**expected, "event": "update"}
