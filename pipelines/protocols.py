"""The seams the daemon calls through: what it needs of the scoring model, the threshold bank, persistence, the
episode tracker and their state, as Protocols.

The pipelines classes implement them (``OnlineModel``, ``ThresholdBank``, ``Persistence``, ``EpisodeTracker``), and
so do the tests' stand-ins, fully: the daemon never asks an object what it can do (no ``hasattr``). The
daemon builds and restores them through ``daemon.factories``, from the config's values, so the defaults that run
are the config's (``pipelines/defaults.py`` is where both read them). This module imports nothing of the
implementations, so it type-checks on its own. ``isinstance`` against them checks that every member is there
(the tests hold the stand-ins to them so); the types themselves are mypy's to check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Stateful(Protocol):
    """What goes into a checkpoint: a JSON-able dict (numpy arrays allowed, ``daemon.checkpoint`` stores them) from
    which the implementation's ``from_state`` rebuilds an object that decides identically."""

    def state(self) -> dict[str, Any]: ...


@runtime_checkable
class Scored(Protocol):
    """One scored batch (``pipelines.online.ScoredBatch``): per-window score, components, neighbours, and the
    reference and sensors an alert names."""

    @property
    def score(self) -> np.ndarray: ...

    @property
    def components(self) -> dict[str, np.ndarray]: ...

    @property
    def neighbours(self) -> np.ndarray: ...

    def reference_of(self, i: int) -> str: ...

    def sensors_of(self, i: int) -> list[dict[str, float | str]]: ...


@runtime_checkable
class ScoringModel(Protocol):
    """A loaded artifact as the daemon uses it (``pipelines.online.OnlineModel``)."""

    @property
    def version(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def calibration(self) -> np.ndarray: ...

    @property
    def asset_calibration(self) -> Mapping[str, np.ndarray] | None:
        """Per-asset calibration scores, None when the artifact has no per-asset references."""

    def score(self, X: np.ndarray, assets: Sequence[str] | None = None) -> Scored: ...

    def close(self) -> None:
        """Release what the model holds (search threads); called once it has been replaced."""


@runtime_checkable
class Thresholds(Stateful, Protocol):
    """Per-asset alarm thresholds (``pipelines.threshold.ThresholdBank``)."""

    @property
    def assets(self) -> list[str]: ...

    @property
    def last_n_peaks(self) -> np.ndarray:
        """Per window of the last ``process`` call, the peak count its threshold was computed from."""

    def process(self, assets: Sequence[str], scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(raw alarms, thresholds) per window, in arrival order."""

    def expire(self, assets: Sequence[str], ts_s: np.ndarray, idle_s: float) -> list[str]:
        """Restart assets idle more than ``idle_s`` (event time) from their calibration; returns them."""

    def idle_cuts(self, assets: Sequence[str], ts_s: np.ndarray, idle_s: float) -> list[int]:
        """Record the windows' times; the positions whose asset was idle more than ``idle_s`` (to ``restart``)."""

    def restart(self, asset: str) -> None:
        """Restart the asset from its calibration at its next window."""

    def describe(self, asset: str, n_peaks: int | None = None) -> dict[str, Any]:
        """The alert's threshold description for ``asset`` (method, q, level, n_peaks, ...), without the value."""

    def spill(self) -> int:
        """Pack what was idle since the previous call; how many were packed."""

    def compact_state(self) -> dict[str, Any]:
        """``state`` for a checkpoint (arrays where it can)."""

    def guarded(self) -> dict[str, str]: ...

    def take_guard_trips(self) -> list[tuple[str, str, str]]: ...


@runtime_checkable
class Decisions(Stateful, Protocol):
    """Persistence and hysteresis on the raw alarms (``pipelines.threshold.persistence.Persistence``)."""

    def process(self, assets: Sequence[str], raw: np.ndarray) -> np.ndarray: ...

    def forget(self, assets: Sequence[str]) -> None: ...


@runtime_checkable
class Event(Protocol):
    """One episode event (``pipelines.episodes.EpisodeEvent``)."""

    @property
    def asset(self) -> str: ...

    @property
    def kind(self) -> str: ...

    def alert_fields(self) -> dict[str, Any]:
        """The episode part of an alert: event, episode_id and the episode's figures."""


@runtime_checkable
class Episodes(Stateful, Protocol):
    """Alarms grouped into episodes (``pipelines.episodes.EpisodeTracker``)."""

    update_every: int

    def observe_batch(
        self, assets: Sequence[str], ts: np.ndarray, alarms: np.ndarray, scores: np.ndarray, keys: Sequence[str]
    ) -> Sequence[tuple[int, Event]]:
        """Every window in order; (window index, event) for each window that emitted one."""

    def sweep(self, now_ts: float) -> Sequence[Event]:
        """Close the episodes that event time ``now_ts`` shows are over."""
