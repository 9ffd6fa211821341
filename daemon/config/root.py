"""``Config``: every section, and the keys at the top level."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from daemon.config.base import LIVE, doc, require
from daemon.config.broker import KafkaConfig
from daemon.config.detection import EpisodesConfig, ThresholdConfig
from daemon.config.drift import DriftConfig
from daemon.config.flow import BatchingConfig, DeadLetterConfig, InputConfig
from daemon.config.refresh import RefreshConfig
from daemon.config.runtime import ArtifactConfig, HttpConfig, LoggingConfig


@dataclass(frozen=True)
class Config:
    """The whole configuration; the sections and keys marked ``LIVE`` are taken from a re-read config on SIGHUP."""

    kafka: KafkaConfig = field(default_factory=KafkaConfig)
    batching: BatchingConfig = field(default_factory=BatchingConfig, metadata=LIVE)
    artifact: ArtifactConfig = field(default_factory=ArtifactConfig)
    threshold: ThresholdConfig = field(default_factory=ThresholdConfig)
    episodes: EpisodesConfig = field(default_factory=EpisodesConfig)
    drift: DriftConfig = field(default_factory=DriftConfig)
    dead_letter: DeadLetterConfig = field(default_factory=DeadLetterConfig, metadata=LIVE)
    input: InputConfig = field(default_factory=InputConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig, metadata=LIVE)
    refresh: RefreshConfig = field(default_factory=RefreshConfig)
    shutdown_timeout_s: float = field(
        default=30.0, metadata=doc("on SIGTERM, the time to finish, flush and commit what is in flight", live=True)
    )
    source: Path | None = None

    def check(self) -> None:
        require(self.shutdown_timeout_s > 0, "shutdown_timeout_s", "a positive number of seconds")
