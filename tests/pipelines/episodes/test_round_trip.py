"""The episode tracker survives a save and restore mid-stream (tests/pipelines/round_trip.py): the same open, update
and close events after it, for each of its own test parameter sets, with the daemon's periodic ``sweep``."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from pipelines.episodes import EpisodeEvent, EpisodeTracker
from tests.pipelines.round_trip import Adapter, check_round_trip, params_of


def _stream(seed: int = 5, n: int = 4000) -> list[tuple[list[str], np.ndarray, np.ndarray, np.ndarray, list[str]]]:
    """Chunks of (assets, ts, alarms, scores, keys) for three assets, one window per asset every 2 s: alarm bursts
    of 5-60 windows with gaps of 1-25, and a silence of 10 minutes for one asset (which ``sweep`` closes)."""
    rng = np.random.default_rng(seed)
    assets = [f"a{i % 3}" for i in range(n)]
    ts = 1.7e9 + 2.0 * (np.arange(n) // 3)
    alarms = np.zeros(n, dtype=bool)
    for asset in range(3):
        at = asset
        while at < n:
            at += int(rng.integers(1, 25)) * 3
            burst = int(rng.integers(5, 60)) * 3
            alarms[at : at + burst : 3] = True
            at += burst
    silent = (np.arange(n) >= 1500) & (np.arange(n) < 1800) & (np.arange(n) % 3 == 1)
    keep = ~silent
    scores = rng.exponential(size=n) + 5.0 * alarms
    keys = [f"in:{i % 4}:{i}" for i in range(n)]
    idx = np.flatnonzero(keep)
    chunks, start = [], 0
    for size in [64, 1, 300, 7] * 200:
        sel = idx[start : start + size]
        if not sel.size:
            break
        chunks.append(([assets[i] for i in sel], ts[sel], alarms[sel], scores[sel], [keys[i] for i in sel]))
        start += size
    return chunks


CHUNKS = _stream()
CUTS = range(1, len(CHUNKS) - 1, 3)  # every few chunks: some cut inside a quiet run of an open episode


def _feed(tracker: EpisodeTracker, chunk: Any) -> list[Any]:
    """The (window index, event) pairs of ``observe_batch``, then the events of the sweep the daemon runs after it."""
    assets, ts, alarms, scores, keys = chunk
    return [*tracker.observe_batch(assets, ts, alarms, scores, keys), *tracker.sweep(float(ts[-1]))]


def _events(out: list[Any]) -> list[EpisodeEvent]:
    return [item[1] if isinstance(item, tuple) else item for item in out]


ADAPTER = Adapter(
    lambda params: EpisodeTracker(**params),
    _feed,
    lambda t: json.loads(json.dumps(t.state())),
    EpisodeTracker.from_state,
)
CASES = [pytest.param(params, id=f"EpisodeTracker-{i}") for i, params in enumerate(params_of(EpisodeTracker))]


@pytest.mark.parametrize("params", CASES)
def test_restored_mid_stream_emits_the_same_events(params):
    check_round_trip(ADAPTER, params, CHUNKS, CUTS)


@pytest.mark.parametrize("params", CASES)
def test_the_stream_opens_updates_and_closes_episodes(params):
    """What the round trip above has to carry: episodes open across chunk boundaries, and every kind of event."""
    tracker = EpisodeTracker(**params)
    kinds, open_at_cut = set(), 0
    for i, chunk in enumerate(CHUNKS):
        open_at_cut += i in CUTS and bool(tracker.open_episodes())
        kinds |= {ev.kind for ev in _events(_feed(tracker, chunk))}
    assert kinds == ({"open", "update", "close"} if tracker.update_every else {"open", "close"})
    assert open_at_cut >= 2
