"""How the daemon builds and restores its decision state: thresholds, persistence and episodes from the config's
sections, the one place their values come from (the config's defaults are ``pipelines/defaults.py``'s, and each
class validates what it is given once, on construction).

``StateFactories()`` builds the pipelines classes; a test swaps one for a stand-in that implements the same
Protocol (``pipelines.protocols``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from pipelines.episodes.episodes import EpisodeSettings, EpisodeTracker
from pipelines.protocols import Decisions, Episodes, Thresholds
from pipelines.threshold.bank import ThresholdBank, ThresholdSettings
from pipelines.threshold.persistence import Persistence

AssetCalibration = Mapping[str, np.ndarray] | None


class PersistenceSettings(Protocol):
    """What ``Persistence.from_settings`` reads (the ``threshold`` section has these fields)."""

    @property
    def persist_m(self) -> int: ...

    @property
    def persist_n(self) -> int: ...

    @property
    def release_windows(self) -> int: ...


def _bank(settings: ThresholdSettings, calibration: np.ndarray, asset_calibration: AssetCalibration) -> Thresholds:
    return ThresholdBank.from_settings(settings, calibration, asset_calibration)


def _bank_from_state(state: dict[str, Any], asset_calibration: AssetCalibration) -> Thresholds:
    return ThresholdBank.from_state(state, asset_calibration)


def _tracker(settings: EpisodeSettings) -> Episodes:
    return EpisodeTracker.from_settings(settings)


def _tracker_from_state(state: dict[str, Any]) -> Episodes:
    return EpisodeTracker.from_state(state)


def _persistence(settings: PersistenceSettings) -> Decisions:
    return Persistence.from_settings(settings)


def _persistence_from_state(state: dict[str, Any]) -> Decisions:
    return Persistence.from_state(state)


@dataclass(frozen=True)
class StateFactories:
    """Fresh from the config's sections, or restored from a checkpoint's state."""

    bank: Callable[[ThresholdSettings, np.ndarray, AssetCalibration], Thresholds] = _bank
    bank_from_state: Callable[[dict[str, Any], AssetCalibration], Thresholds] = _bank_from_state
    tracker: Callable[[EpisodeSettings], Episodes] = _tracker
    tracker_from_state: Callable[[dict[str, Any]], Episodes] = _tracker_from_state
    persistence: Callable[[PersistenceSettings], Decisions] = _persistence
    persistence_from_state: Callable[[dict[str, Any]], Decisions] = _persistence_from_state
