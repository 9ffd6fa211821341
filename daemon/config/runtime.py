"""The process around the pipeline: where the model comes from (``artifact``), ``http`` and ``logging``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from daemon.config.base import doc, require


@dataclass(frozen=True)
class ArtifactConfig:
    """Where the model comes from: ``path`` (one fixed version directory) or ``root`` (follow ``root/current.json``)."""

    root: Path | None = field(
        default=Path("var/artifacts"), metadata=doc("follow `root/current.json`: a new version is swapped in")
    )
    path: Path | None = field(default=None, metadata=doc("one fixed version directory instead (no swaps)"))
    check_interval_s: float = field(default=30.0, metadata=doc("seconds between looks at current.json", live=True))

    def check(self) -> None:
        require(self.root is not None or self.path is not None, "root", "artifact.root or artifact.path")
        require(self.check_interval_s > 0, "check_interval_s", "a positive number of seconds")


@dataclass(frozen=True)
class HttpConfig:
    """/healthz and /metrics. /healthz turns 503 once the loop has not polled, or the oldest uncommitted batch has
    waited, for ``unhealthy_after_s``; at most ``max_connections`` requests are served at once, each given up after
    ``request_timeout_s``."""

    enabled: bool = field(default=True, metadata=doc("serve /healthz and /metrics"))
    host: str = field(default="127.0.0.1", metadata=doc("address to listen on (0.0.0.0: every interface)"))
    port: int = field(default=9464, metadata=doc("TCP port (0 picks a free one)"))
    unhealthy_after_s: float = field(
        default=30.0, metadata=doc("/healthz is 503 when the loop has not polled, or a batch waited, this long")
    )
    max_connections: int = field(default=8, metadata=doc("requests served at once"))
    request_timeout_s: float = field(default=5.0, metadata=doc("a stalled request is dropped after this long"))

    def check(self) -> None:
        require(self.unhealthy_after_s > 0, "unhealthy_after_s", "a positive number of seconds")
        require(self.max_connections > 0, "max_connections", "a positive integer")
        require(self.request_timeout_s > 0, "request_timeout_s", "a positive number of seconds")
        require(0 <= self.port <= 65535, "port", "a TCP port in 0..65535 (0 picks a free one)")
        require(bool(self.host), "host", "a host name or address")


@dataclass(frozen=True)
class LoggingConfig:
    """Logs go to stderr (the journal under systemd)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = field(default="INFO", metadata=doc("the lowest level logged"))
    json: bool = field(default=True, metadata=doc("one JSON object a line (false: readable key=value lines)"))
