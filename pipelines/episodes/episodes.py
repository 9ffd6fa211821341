"""Alarm windows -> alert episodes: one ``open`` at the first alarm, optional ``update``s, one ``close``.

Per asset, an episode opens on an alarm and closes after ``quiet_windows`` consecutive non-alarm windows or, when
``quiet_seconds`` is set, on the first window at least ``quiet_seconds`` after the last alarm (``sweep`` closes
episodes of assets that stopped sending; call it periodically, since an alarm arriving after a silent gap otherwise
continues the open episode). ``max_duration_s`` closes a long episode on the alarm that reaches it,
so the next alarm opens a fresh one. Episode ids hash the asset and the key of the opening window, so replaying the
same windows gives the same ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

import numpy as np

from pipelines import defaults as D


@dataclass(frozen=True)
class EpisodeEvent:
    kind: Literal["open", "update", "close"]
    episode_id: str
    asset: str
    opened_ts: float
    last_ts: float
    n_alarms: int
    max_score: float

    def alert_fields(self) -> dict[str, Any]:
        """The episode part of an alert (no asset; ``kind`` named ``event``), built by hand: this runs per alert."""
        return {
            "event": self.kind,
            "episode_id": self.episode_id,
            "opened_ts": self.opened_ts,
            "last_ts": self.last_ts,
            "n_alarms": self.n_alarms,
            "max_score": self.max_score,
        }


@dataclass(slots=True)  # one per asset: no __dict__
class _Open:
    episode_id: str
    opened_ts: float
    last_ts: float
    n_alarms: int
    max_score: float
    quiet: int = 0

    def event(self, kind: Literal["open", "update", "close"], asset: str) -> EpisodeEvent:
        return EpisodeEvent(kind, self.episode_id, asset, self.opened_ts, self.last_ts, self.n_alarms, self.max_score)


def episode_id(asset: str, key: str) -> str:
    return hashlib.blake2b(f"{asset}\x1f{key}".encode(), digest_size=10).hexdigest()


class EpisodeSettings(Protocol):
    """What ``from_settings`` reads (``daemon.config.EpisodesConfig``, a frozen dataclass, has these fields)."""

    @property
    def quiet_windows(self) -> int: ...

    @property
    def quiet_seconds(self) -> float | None: ...

    @property
    def max_duration_s(self) -> float | None: ...

    @property
    def update_every(self) -> int: ...


class EpisodeTracker:
    """``update_every=N`` emits an update on every Nth alarm after the opening one (0 disables updates).

    An episode lasts as long as its alarms do: a persistent fault is one open episode with an update every N alarms
    until ``quiet_windows`` quiet windows (or ``quiet_seconds``) close it; only ``max_duration_s`` (a day by
    default) cuts it, and the next alarm opens the next. The thresholds never stop alarming on a fault by
    themselves (``pipelines/threshold/dspot.py``). The defaults are the daemon's (``pipelines/defaults.py``)."""

    def __init__(
        self,
        quiet_windows: int | None = D.QUIET_WINDOWS,
        quiet_seconds: float | None = D.QUIET_SECONDS,
        max_duration_s: float | None = D.MAX_DURATION_S,
        update_every: int = D.UPDATE_EVERY,
    ) -> None:
        if quiet_windows is None and quiet_seconds is None:
            raise ValueError("need quiet_windows or quiet_seconds to ever close an episode")
        if quiet_windows is not None and quiet_windows < 1:
            raise ValueError(f"quiet_windows must be >= 1, got {quiet_windows}")
        if quiet_seconds is not None and quiet_seconds <= 0:
            raise ValueError(f"quiet_seconds must be > 0, got {quiet_seconds}")
        if max_duration_s is not None and max_duration_s <= 0:
            raise ValueError(f"max_duration_s must be > 0, got {max_duration_s}")
        if update_every < 0:
            raise ValueError(f"update_every must be >= 0, got {update_every}")
        self.quiet_windows, self.quiet_seconds = quiet_windows, quiet_seconds
        self.max_duration_s, self.update_every = max_duration_s, update_every
        self._open: dict[str, _Open] = {}

    @classmethod
    def from_settings(cls, settings: EpisodeSettings) -> EpisodeTracker:
        """The tracker the daemon runs, from the ``episodes`` config section."""
        return cls(
            quiet_windows=settings.quiet_windows,
            quiet_seconds=settings.quiet_seconds,
            max_duration_s=settings.max_duration_s,
            update_every=settings.update_every,
        )

    def params(self) -> dict[str, Any]:
        return {
            "quiet_windows": self.quiet_windows,
            "quiet_seconds": self.quiet_seconds,
            "max_duration_s": self.max_duration_s,
            "update_every": self.update_every,
        }

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        """For the shared round-trip check (tests/pipelines/episodes/): the defaults, a tracker that closes on quiet
        windows or seconds with a short maximum duration, and one that closes on seconds only."""
        yield {}
        yield {"quiet_windows": 3, "quiet_seconds": 20.0, "max_duration_s": 120.0, "update_every": 2}
        yield {"quiet_windows": None, "quiet_seconds": 15.0, "max_duration_s": None, "update_every": 0}

    def open_episodes(self) -> dict[str, EpisodeEvent]:
        """The open episode of each asset that has one (as an ``update``-kind snapshot)."""
        return {a: ep.event("update", a) for a, ep in self._open.items()}

    def observe(self, asset: str, ts: float, alarm: bool, score: float, key: str) -> EpisodeEvent | None:
        ep = self._open.get(asset)
        if ep is None:
            if not alarm:
                return None
            ep = self._open[asset] = _Open(episode_id(asset, key), float(ts), float(ts), 1, float(score))
            return ep.event("open", asset)
        if alarm:
            ep.quiet = 0
            ep.n_alarms += 1
            ep.last_ts = float(ts)
            ep.max_score = max(ep.max_score, float(score))
            if self.max_duration_s is not None and ep.last_ts - ep.opened_ts >= self.max_duration_s:
                del self._open[asset]
                return ep.event("close", asset)
            if self.update_every and (ep.n_alarms - 1) % self.update_every == 0:
                return ep.event("update", asset)
            return None
        ep.quiet += 1
        if (self.quiet_windows is not None and ep.quiet >= self.quiet_windows) or (
            self.quiet_seconds is not None and ts - ep.last_ts >= self.quiet_seconds
        ):
            del self._open[asset]
            return ep.event("close", asset)
        return None

    def observe_batch(
        self, assets: Sequence[str], ts: np.ndarray, alarms: np.ndarray, scores: np.ndarray, keys: Sequence[str]
    ) -> list[tuple[int, EpisodeEvent]]:
        """``observe`` for each window in order; (window index, event) for each window that emitted one, in order
        (the daemon builds an alert from the window at that index). A quiet window of an asset with no open episode
        cannot emit anything and is skipped."""
        ts, alarms, scores = np.asarray(ts, np.float64), np.asarray(alarms, bool), np.asarray(scores, np.float64)
        if not len(assets) == ts.size == alarms.size == scores.size == len(keys):
            raise ValueError(
                f"lengths differ: assets {len(assets)}, ts {ts.size}, alarms {alarms.size}, "
                f"scores {scores.size}, keys {len(keys)}"
            )
        events: list[tuple[int, EpisodeEvent]] = []
        for i in range(ts.size):
            if alarms[i] or assets[i] in self._open:
                ev = self.observe(assets[i], float(ts[i]), bool(alarms[i]), float(scores[i]), keys[i])
                if ev is not None:
                    events.append((i, ev))
        return events

    def sweep(self, now_ts: float) -> list[EpisodeEvent]:
        """Close episodes whose last alarm is ``quiet_seconds`` (or ``max_duration_s`` after opening) before now."""
        events = []
        for asset, ep in list(self._open.items()):
            if (self.quiet_seconds is not None and now_ts - ep.last_ts >= self.quiet_seconds) or (
                self.max_duration_s is not None and now_ts - ep.opened_ts >= self.max_duration_s
            ):
                del self._open[asset]
                events.append(ep.event("close", asset))
        return events

    def state(self) -> dict[str, Any]:
        return {"params": self.params(), "open": {a: asdict(ep) for a, ep in self._open.items()}}

    @classmethod
    def from_state(cls, d: dict[str, Any]) -> EpisodeTracker:
        obj = cls(**d["params"])
        obj._open = {a: _Open(**ep) for a, ep in d["open"].items()}
        return obj
