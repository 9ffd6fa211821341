"""The daemon's one typed configuration (moved from ``latentwatch/config.py``: the daemon reads it, so it lives here)."""
from daemon.config.load import (ArtifactConfig, BatchingConfig, Config, ConfigError, DeadLetterConfig,
                                EpisodesConfig, HttpConfig, InputConfig, KafkaConfig, LoggingConfig, Secret,
                                SecurityConfig, ThresholdConfig, load_config)

__all__ = ["ArtifactConfig", "BatchingConfig", "Config", "ConfigError", "DeadLetterConfig", "EpisodesConfig",
           "HttpConfig", "InputConfig", "KafkaConfig", "LoggingConfig", "Secret", "SecurityConfig", "ThresholdConfig",
           "load_config"]
