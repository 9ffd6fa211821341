"""The peer registry: a peer that cannot be imported is reported with the reason, never dropped."""

from __future__ import annotations

import pytest

from latentwatch.bench.peers.registry import PEERS, unavailable


def test_an_uninstallable_peer_is_reported_with_its_import_error():
    def importer(module: str) -> None:
        if module.startswith("pysad"):
            raise ImportError("numpy.core.multiarray failed to import\nsecond line")

    got = unavailable(["xstream", "pyod-knn"], importer=importer)
    assert got == {"xstream": "ImportError: numpy.core.multiarray failed to import"}


def test_an_unknown_peer_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown peer 'nope'.*pyod-knn"):
        unavailable(["nope"])


def test_the_installed_bench_extra_imports_every_peer():
    """pyproject's bench extra holds every peer; streamad imports through the pkg_resources shim."""
    pytest.importorskip("pysad")
    pytest.importorskip("pyod")
    assert unavailable(list(PEERS)) == {}
