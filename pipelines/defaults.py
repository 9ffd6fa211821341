"""The defaults that run: the one place both ``daemon.config`` and the classes they configure read them from
(``SPOT``/``DSPOT``/``ThresholdBank``, ``EpisodeTracker``), so a class built without arguments behaves like the
daemon built from an empty config. ``tests/daemon/config/test_defaults.py`` holds the two to each other."""

from __future__ import annotations

from typing import Literal

# threshold (pipelines/threshold, config section ``threshold``)
METHOD: Literal["spot", "dspot"] = "dspot"
Q = 1e-4
LEVEL = 0.98
DEPTH = 10
REFIT_EVERY = 10
MAX_PEAKS = 500
MIN_PEAKS = 10
# the runaway guard (pipelines/threshold/spot.py): the GPD shape is fitted at most MAX_SHAPE; the threshold is held
# when the last GUARD_PEAKS peaks came at more than MAX_PEAK_RATIO x (1 - level) per window, and released when the
# last GUARD_PEAKS came at under RELEASE_PEAK_RATIO x (1 - level)
MAX_SHAPE = 0.5
MAX_PEAK_RATIO = 5.0
RELEASE_PEAK_RATIO = 2.0
GUARD_PEAKS = 50
# decisions on top of the threshold (pipelines/threshold/persistence.py): an alarm opens when PERSIST_M of the last
# PERSIST_N windows pass the threshold and holds until RELEASE_WINDOWS in a row stay below it (1, 1, 1: raw alarms)
PERSIST_M = 1
PERSIST_N = 1
RELEASE_WINDOWS = 1

# episodes (pipelines/episodes/episodes.py, config section ``episodes``)
QUIET_WINDOWS = 5
QUIET_SECONDS: float | None = 300.0
MAX_DURATION_S: float | None = 86400.0
UPDATE_EVERY = 10
