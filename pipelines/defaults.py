"""The defaults that run: the one place both ``latentwatch.config`` and the classes they configure read them from
(``SPOT``/``DSPOT``/``ThresholdBank``, ``EpisodeTracker``), so a class built without arguments behaves like the
daemon built from an empty config. ``tests/latentwatch/test_defaults.py`` holds the two to each other."""
from __future__ import annotations

# threshold (pipelines/threshold, config section ``threshold``)
METHOD = "dspot"
Q = 1e-4
LEVEL = 0.98
DEPTH = 10
REFIT_EVERY = 10
MAX_PEAKS = 500
MIN_PEAKS = 10

# episodes (pipelines/alerts/episodes.py, config section ``episodes``)
QUIET_WINDOWS = 5
QUIET_SECONDS: float | None = 300.0
MAX_DURATION_S: float | None = 86400.0
UPDATE_EVERY = 10
