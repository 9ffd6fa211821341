"""The peers of `latentwatch bench peers`: which library each comes from, what it is, and whether it imports here.

A peer that cannot be imported beside the stack is kept in every table with the reason (the import's error, one
line), never dropped silently. ``streamad-spot`` is a thresholder, not a scorer: it decides on latentwatch's own
score stream (SKAB only).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from latentwatch.bench.peers.adapters import HstPeer, PyodPeer, PysadPeer


@dataclass(frozen=True)
class PeerSpec:
    name: str
    label: str  # as the tables show it
    module: str  # what must import for the peer to run
    make: Callable[[int], Any] | None  # seed -> adapter; None: a thresholder on latentwatch's scores
    streaming: bool  # learns row by row in Python: fitted on at most --max-train windows


PEERS: dict[str, PeerSpec] = {
    s.name: s
    for s in (
        PeerSpec("hst", "River HalfSpaceTrees", "river.anomaly", HstPeer, True),
        PeerSpec("xstream", "PySAD xStream", "pysad.models", lambda seed: PysadPeer("xstream", seed), True),
        PeerSpec("rshash", "PySAD RS-Hash", "pysad.models", lambda seed: PysadPeer("rshash", seed), True),
        PeerSpec("loda", "PySAD LODA", "pysad.models", lambda seed: PysadPeer("loda", seed), True),
        PeerSpec("pyod-ae", "PyOD AutoEncoder", "pyod.models.auto_encoder", lambda s: PyodPeer("ae", s), True),
        PeerSpec("pyod-lof", "PyOD LOF", "pyod.models.lof", lambda seed: PyodPeer("lof", seed), False),
        PeerSpec("pyod-knn", "PyOD KNN", "pyod.models.knn", lambda seed: PyodPeer("knn", seed), False),
        PeerSpec("pyod-iforest", "PyOD IForest", "pyod.models.iforest", lambda seed: PyodPeer("iforest", seed), False),
        PeerSpec("streamad-spot", "streamad SpotDetector", "streamad.model", None, False),
    )
}


def _pkg_resources_shim() -> None:
    """rrcf (imported by every ``streamad.model``) still calls ``pkg_resources.get_distribution(...).version``,
    which setuptools >= 81 no longer ships; this is the one call it makes."""
    if "pkg_resources" in sys.modules:
        return
    shim = types.ModuleType("pkg_resources")

    class _Dist:
        def __init__(self, name: str) -> None:
            self.version = importlib.metadata.version(name)

    shim.get_distribution = _Dist  # type: ignore[attr-defined]
    sys.modules["pkg_resources"] = shim


def _import(module: str) -> None:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name != "pkg_resources":
            raise
        _pkg_resources_shim()
        importlib.import_module(module)


def import_streamad_spot() -> Any:
    _import("streamad.model")
    from streamad.model import SpotDetector

    return SpotDetector


def unavailable(names: tuple[str, ...] | list[str], importer: Callable[[str], None] = _import) -> dict[str, str]:
    """{peer: why it cannot run here} for the named peers that do not import (the error's first line)."""
    out = {}
    for name in names:
        if name not in PEERS:
            raise ValueError(f"unknown peer {name!r}; choose from {', '.join(PEERS)}")
        try:
            importer(PEERS[name].module)
        except Exception as e:  # an optional library fails in many ways (ImportError, a numpy ABI error, ...)
            first = (str(e).strip().splitlines() or [""])[0]
            out[name] = f"{type(e).__name__}: {first}"
    return out
