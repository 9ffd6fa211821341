"""The local single-node KRaft broker for tests, CI and the demo, shipped with the package.

``kafka.sh`` (start, stop, status, fetch, wipe) and the ``pom.xml`` it fetches the broker jars with are package data,
found through ``importlib.resources``, so ``latentwatch kafka ...`` works from an installed wheel as from a checkout;
``scripts/kafka.sh`` in a checkout runs this same script. The broker itself is driven from Python by ``broker`` (start
when nothing answers, stop) and read back by ``admin`` (topics, offsets, records).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def script_path() -> Path:
    """``kafka.sh`` of this package (a real file: the package is never imported from a zip)."""
    return Path(str(files(__name__) / "kafka.sh"))


def pom_path() -> Path:
    """The Maven pom that names the broker jars (``kafka.sh fetch`` reads it beside itself)."""
    return Path(str(files(__name__) / "pom.xml"))
