"""The process around the pipeline: where the model comes from (``artifact``), ``http`` and ``logging``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from daemon.config.base import LIVE, require


@dataclass(frozen=True)
class ArtifactConfig:
    """Where the model comes from: ``path`` (one fixed version directory) or ``root`` (follow ``root/current``)."""

    root: Path | None = Path("var/artifacts")
    path: Path | None = None
    check_interval_s: float = field(default=30.0, metadata=LIVE)

    def check(self) -> None:
        require(self.root is not None or self.path is not None, "root", "artifact.root or artifact.path")
        require(self.check_interval_s > 0, "check_interval_s", "a positive number of seconds")


@dataclass(frozen=True)
class HttpConfig:
    """/healthz and /metrics. /healthz turns 503 once the loop has not polled, or the oldest uncommitted batch has
    waited, for ``unhealthy_after_s``; at most ``max_connections`` requests are served at once, each given up after
    ``request_timeout_s``."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 9464
    unhealthy_after_s: float = 30.0
    max_connections: int = 8
    request_timeout_s: float = 5.0

    def check(self) -> None:
        require(self.unhealthy_after_s > 0, "unhealthy_after_s", "a positive number of seconds")
        require(self.max_connections > 0, "max_connections", "a positive integer")
        require(self.request_timeout_s > 0, "request_timeout_s", "a positive number of seconds")
        require(0 <= self.port <= 65535, "port", "a TCP port in 0..65535 (0 picks a free one)")
        require(bool(self.host), "host", "a host name or address")


@dataclass(frozen=True)
class LoggingConfig:
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json: bool = True
