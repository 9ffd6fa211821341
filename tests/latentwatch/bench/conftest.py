"""The daemon tests' real artifact, for the benchmarks that restart a real daemon from it."""

from tests.daemon.conftest import artifact_root  # noqa: F401
