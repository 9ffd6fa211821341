"""The daemon's one typed configuration, parsed and validated once from YAML.

Every section is a frozen dataclass; ``load_config(path)`` walks the YAML against the dataclass type hints, so an
unknown key, a wrong type or a bad value fails at start with the dotted key, the file and what was expected.

Strings may reference environment variables as ``${NAME}`` (an unset one is an error). Secrets are held in
``Secret``, whose repr/str never show the value; only ``reveal()`` does, at the one place that hands it to Kafka.
Relative paths are resolved against the working directory at load time, so a later chdir cannot move them.

A field (or a whole section) marked ``metadata=LIVE`` is taken from a re-read config on SIGHUP (``daemon/reload.py``);
every other key waits for a restart.

Modules: ``base`` (errors, ``Secret``, the checks' helpers), ``broker`` (Kafka connection, security, passthrough),
``flow`` (batching, input bounds, dead letters), ``detection`` (threshold, episodes), ``runtime`` (artifact, HTTP,
logging), ``root`` (``Config``, the whole), ``load`` (YAML to ``Config``).
"""

from daemon.config.base import LIVE, ConfigError, Secret
from daemon.config.broker import KafkaConfig, SecurityConfig
from daemon.config.detection import EpisodesConfig, ThresholdConfig
from daemon.config.flow import BatchingConfig, DeadLetterConfig, InputConfig
from daemon.config.load import load_config
from daemon.config.root import Config
from daemon.config.runtime import ArtifactConfig, HttpConfig, LoggingConfig

__all__ = [
    "LIVE",
    "ArtifactConfig",
    "BatchingConfig",
    "Config",
    "ConfigError",
    "DeadLetterConfig",
    "EpisodesConfig",
    "HttpConfig",
    "InputConfig",
    "KafkaConfig",
    "LoggingConfig",
    "Secret",
    "SecurityConfig",
    "ThresholdConfig",
    "load_config",
]
