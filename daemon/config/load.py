"""The daemon's one typed configuration, parsed and validated once from YAML.

Every section is a frozen dataclass; ``load_config(path)`` walks the YAML against the dataclass type hints, so an
unknown key, a wrong type or a bad value fails at start with the dotted key, the file and what was expected.

Strings may reference environment variables as ``${NAME}`` (an unset one is an error). Secrets are held in
``Secret``, whose repr/str never show the value; only ``reveal()`` does, at the one place that hands it to Kafka.
Relative paths are resolved against the working directory at load time, so a later chdir cannot move them.
"""
from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

import yaml

from pipelines import defaults as D


class ConfigError(ValueError):
    """A configuration problem, always naming the file and, where there is one, the dotted key."""

    def __init__(self, path: str | Path, key: str | None, message: str) -> None:
        self.path = str(path)
        self.key = key
        self.message = message
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"{where}: {message}")


class Secret:
    """A string that never shows itself in repr, str, f-strings or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


class _Invalid(Exception):
    """Raised inside a section's checks; the loader adds the file and the dotted prefix."""

    def __init__(self, key: str, expected: str) -> None:
        super().__init__(key, expected)
        self.key = key
        self.expected = expected


def _require(ok: bool, key: str, expected: str) -> None:
    if not ok:
        raise _Invalid(key, expected)


@dataclass(frozen=True)
class SecurityConfig:
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_plain_username: str | None = None
    sasl_plain_password: Secret | None = None
    sasl_plain_password_file: Path | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_check_hostname: bool = True

    def check(self) -> None:
        sasl = self.security_protocol.startswith("SASL_")
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile", "sasl_plain_password_file"):
            p = getattr(self, name)
            _require(p is None or p.is_file(), name, "an existing file")
        _require(not (self.sasl_plain_password and self.sasl_plain_password_file), "sasl_plain_password_file",
                 "only one of sasl_plain_password and sasl_plain_password_file")
        _require(not sasl or self.sasl_mechanism is not None, "sasl_mechanism",
                 f"a mechanism when security_protocol is {self.security_protocol}")
        _require(not sasl or bool(self.sasl_plain_username), "sasl_plain_username",
                 f"a username when security_protocol is {self.security_protocol}")
        _require(not sasl or self.password() is not None, "sasl_plain_password",
                 f"a password (or sasl_plain_password_file) when security_protocol is {self.security_protocol}")

    def password(self) -> Secret | None:
        if self.sasl_plain_password_file is not None:
            try:
                return Secret(self.sasl_plain_password_file.read_text().rstrip("\r\n"))
            except OSError:
                return None
        return self.sasl_plain_password

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python clients; the only place a secret is revealed."""
        out: dict[str, Any] = {"security_protocol": self.security_protocol}
        if self.security_protocol.startswith("SASL_"):
            password = self.password()
            out.update(sasl_mechanism=self.sasl_mechanism, sasl_plain_username=self.sasl_plain_username,
                       sasl_plain_password=password.reveal() if password else None)
        if self.security_protocol in ("SSL", "SASL_SSL"):
            out["ssl_check_hostname"] = self.ssl_check_hostname
            for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
                if getattr(self, name) is not None:
                    out[name] = str(getattr(self, name))
        return out


# Settings the daemon's guarantees rest on; the passthrough dicts may not override them.
_MANAGED_CONSUMER = frozenset({"bootstrap_servers", "group_id", "client_id", "enable_auto_commit", "key_deserializer",
                               "value_deserializer", "security_protocol", "sasl_mechanism", "sasl_plain_username",
                               "sasl_plain_password", "ssl_cafile", "ssl_certfile", "ssl_keyfile",
                               "ssl_check_hostname"})
_MANAGED_PRODUCER = frozenset({"bootstrap_servers", "client_id", "acks", "enable_idempotence", "key_serializer",
                               "value_serializer", "security_protocol", "sasl_mechanism", "sasl_plain_username",
                               "sasl_plain_password", "ssl_cafile", "ssl_certfile", "ssl_keyfile",
                               "ssl_check_hostname", "transactional_id"})


@dataclass(frozen=True)
class KafkaConfig:
    bootstrap_servers: tuple[str, ...] = ("127.0.0.1:19092",)
    input_topic: str = "latentwatch.windows"
    alert_topic: str = "latentwatch.alerts"
    dead_letter_topic: str = "latentwatch.deadletter"
    group_id: str = "latentwatch"
    client_id: str = "latentwatch"
    auto_offset_reset: Literal["earliest", "latest"] = "earliest"
    security: SecurityConfig = field(default_factory=SecurityConfig)
    consumer: dict[str, Any] = field(default_factory=dict)
    producer: dict[str, Any] = field(default_factory=dict)
    connect_timeout_s: float = 120.0  # broker down at start: retry this long (under systemd's TimeoutStartSec 180)

    def check(self) -> None:
        _require(len(self.bootstrap_servers) > 0, "bootstrap_servers", "at least one host:port")
        _require(self.connect_timeout_s >= 0, "connect_timeout_s", "a number of seconds >= 0")
        for s in self.bootstrap_servers:
            _require(bool(re.fullmatch(r"[^\s:]+:\d{1,5}", s)), "bootstrap_servers", f"host:port entries, got {s!r}")
        for name in ("input_topic", "alert_topic", "dead_letter_topic", "group_id", "client_id"):
            _require(bool(re.fullmatch(r"[A-Za-z0-9._-]{1,249}", getattr(self, name))), name,
                     "a non-empty Kafka name of letters, digits, '.', '_' or '-'")
        _require(len({self.input_topic, self.alert_topic, self.dead_letter_topic}) == 3, "alert_topic",
                 "input, alert and dead-letter topics to be three different topics")
        from kafka import KafkaConsumer, KafkaProducer

        for section, known, managed in (("consumer", KafkaConsumer.DEFAULT_CONFIG, _MANAGED_CONSUMER),
                                        ("producer", KafkaProducer.DEFAULT_CONFIG, _MANAGED_PRODUCER)):
            for k in getattr(self, section):
                _require(k in known, f"{section}.{k}", f"a kafka-python {section} setting (unknown key)")
                _require(k not in managed, f"{section}.{k}",
                         "not to be overridden here: the daemon sets it (see the kafka section)")


@dataclass(frozen=True)
class BatchingConfig:
    max_records: int = 1000
    max_wait_ms: int = 25
    max_in_flight: int = 5000

    def check(self) -> None:
        _require(self.max_records > 0, "max_records", "a positive integer")
        _require(self.max_wait_ms >= 0, "max_wait_ms", "an integer >= 0")
        _require(self.max_in_flight >= self.max_records, "max_in_flight", "an integer >= batching.max_records")


@dataclass(frozen=True)
class ArtifactConfig:
    """Where the model comes from: ``path`` (one fixed version directory) or ``root`` (follow ``root/current``)."""

    root: Path | None = Path("var/artifacts")
    path: Path | None = None
    check_interval_s: float = 30.0

    def check(self) -> None:
        _require(self.root is not None or self.path is not None, "root", "artifact.root or artifact.path")
        _require(self.check_interval_s > 0, "check_interval_s", "a positive number of seconds")


@dataclass(frozen=True)
class ThresholdConfig:
    method: Literal["spot", "dspot"] = D.METHOD
    q: float = D.Q
    level: float = D.LEVEL
    depth: int = D.DEPTH
    refit_every: int = D.REFIT_EVERY
    max_shape: float = D.MAX_SHAPE
    max_peak_ratio: float = D.MAX_PEAK_RATIO
    persist_m: int = D.PERSIST_M
    persist_n: int = D.PERSIST_N
    release_windows: int = D.RELEASE_WINDOWS
    checkpoint_path: Path = Path("var/state/daemon-state.json")
    checkpoint_interval_s: float = 60.0
    idle_expiry_s: float | None = 604_800.0  # event time; an asset unseen this long restarts from its calibration

    def check(self) -> None:
        _require(0.0 < self.q < 1.0, "q", "a risk in (0, 1)")
        _require(0.0 < self.level < 1.0, "level", "an initial quantile level in (0, 1)")
        _require(self.depth > 0, "depth", "a positive integer")
        _require(self.max_shape > 0, "max_shape", "a positive bound on the GPD shape")
        _require(self.max_peak_ratio > D.RELEASE_PEAK_RATIO, "max_peak_ratio",
                 f"a multiple of 1 - level above {D.RELEASE_PEAK_RATIO}")
        _require(self.refit_every >= 1, "refit_every", "an integer >= 1 (1: refit the GPD on every new peak)")
        _require(self.q < 1.0 - self.level, "q", "a risk below 1 - threshold.level")
        _require(self.checkpoint_interval_s > 0, "checkpoint_interval_s", "a positive number of seconds")
        _require(self.idle_expiry_s is None or self.idle_expiry_s > 0, "idle_expiry_s",
                 "a positive number of seconds (event time), or null to keep every asset")
        _require(self.persist_n >= 1, "persist_n", "an integer >= 1 (windows looked back on)")
        _require(1 <= self.persist_m <= self.persist_n, "persist_m", "an integer in [1, threshold.persist_n]")
        _require(self.release_windows >= 1, "release_windows", "an integer >= 1 (quiet windows that end an alarm)")


@dataclass(frozen=True)
class EpisodesConfig:
    """An episode closes after ``quiet_windows`` windows without an alarm, or ``quiet_seconds`` (event time) without
    one, or ``max_duration_s`` after it opened; null turns the seconds-based rules off. ``update_every: 0`` sends
    no updates."""

    quiet_windows: int = D.QUIET_WINDOWS
    quiet_seconds: float | None = D.QUIET_SECONDS
    max_duration_s: float | None = D.MAX_DURATION_S
    update_every: int = D.UPDATE_EVERY

    def check(self) -> None:
        _require(self.quiet_windows > 0, "quiet_windows", "a positive integer")
        _require(self.quiet_seconds is None or self.quiet_seconds > 0, "quiet_seconds",
                 "a positive number of seconds, or null")
        _require(self.max_duration_s is None or self.max_duration_s > 0, "max_duration_s",
                 "a positive number of seconds, or null")
        _require(self.update_every >= 0, "update_every", "an integer >= 0 (0: no updates)")


@dataclass(frozen=True)
class DeadLetterConfig:
    """The guard against a bad deploy: stop when too many of the last ``window`` messages, or ``max_consecutive`` in a
    row, were dead-lettered."""

    max_bytes: int = 1_048_576
    window: int = 1000
    max_ratio: float = 0.5
    max_consecutive: int = 500

    def check(self) -> None:
        _require(self.max_bytes > 0, "max_bytes", "a positive integer")
        _require(self.window > 0, "window", "a positive integer")
        _require(0.0 < self.max_ratio <= 1.0, "max_ratio", "a ratio in (0, 1]")
        _require(self.max_consecutive > 0, "max_consecutive", "a positive integer")


@dataclass(frozen=True)
class InputConfig:
    """Bounds a decoded window must also keep, or it is dead-lettered (daemon/bounds.py). ``ts`` against the
    record's broker timestamp: at most ``ts_max_ahead_s`` ahead, at most ``ts_max_behind_s`` behind (null: no bound
    on that side; the default, since replays and backfills send old windows). ``meta`` is copied whole into the
    window's alerts, so its nesting depth and its size as JSON are bounded; ``asset`` is a key and a state entry."""

    ts_max_ahead_s: float | None = 86400.0
    ts_max_behind_s: float | None = None
    meta_max_depth: int = 16
    meta_max_bytes: int = 16384
    asset_max_chars: int = 256

    def check(self) -> None:
        for name in ("ts_max_ahead_s", "ts_max_behind_s"):
            value = getattr(self, name)
            _require(value is None or value >= 0, name, "a number of seconds >= 0, or null (no bound)")
        _require(1 <= self.meta_max_depth <= 255, "meta_max_depth", "an integer in 1..255 (orjson writes 255)")
        _require(self.meta_max_bytes > 0, "meta_max_bytes", "a positive integer")
        _require(self.asset_max_chars > 0, "asset_max_chars", "a positive integer")


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
        _require(self.unhealthy_after_s > 0, "unhealthy_after_s", "a positive number of seconds")
        _require(self.max_connections > 0, "max_connections", "a positive integer")
        _require(self.request_timeout_s > 0, "request_timeout_s", "a positive number of seconds")
        _require(0 <= self.port <= 65535, "port", "a TCP port in 0..65535 (0 picks a free one)")
        _require(bool(self.host), "host", "a host name or address")


@dataclass(frozen=True)
class LoggingConfig:
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json: bool = True


@dataclass(frozen=True)
class Config:
    kafka: KafkaConfig = field(default_factory=KafkaConfig)
    batching: BatchingConfig = field(default_factory=BatchingConfig)
    artifact: ArtifactConfig = field(default_factory=ArtifactConfig)
    threshold: ThresholdConfig = field(default_factory=ThresholdConfig)
    episodes: EpisodesConfig = field(default_factory=EpisodesConfig)
    dead_letter: DeadLetterConfig = field(default_factory=DeadLetterConfig)
    input: InputConfig = field(default_factory=InputConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    shutdown_timeout_s: float = 30.0
    source: Path | None = None

    def check(self) -> None:
        _require(self.shutdown_timeout_s > 0, "shutdown_timeout_s", "a positive number of seconds")


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NOT_FROM_YAML = {"source"}


class _Loader:
    def __init__(self, path: Path, env: Mapping[str, str]) -> None:
        self.path = path
        self.env = env

    def fail(self, key: str | None, message: str) -> typing.NoReturn:
        raise ConfigError(self.path, key, message)

    def expand(self, key: str, value: str) -> str:
        def sub(m: re.Match[str]) -> str:
            if m.group(1) not in self.env:
                self.fail(key, f"environment variable {m.group(1)} is referenced but not set")
            return self.env[m.group(1)]

        return _ENV_REF.sub(sub, value)

    def section(self, cls: type, raw: Any, key: str) -> Any:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            self.fail(key or None, f"expected a mapping (section {cls.__name__}), got {type(raw).__name__}")
        hints = typing.get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls)} - _NOT_FROM_YAML
        unknown = sorted(str(k) for k in raw if k not in names)
        if unknown:
            self.fail(_join(key, unknown[0]), f"unknown key (known here: {', '.join(sorted(names))})")
        values = {name: self.value(hints[name], raw[name], _join(key, name)) for name in names if name in raw}
        obj = cls(**values)
        try:
            obj.check() if hasattr(obj, "check") else None
        except _Invalid as e:
            shown = "<secret>" if "password" in e.key else repr(_dig(obj, e.key))
            self.fail(_join(key, e.key), f"expected {e.expected}, got {shown}")
        return obj

    def value(self, tp: Any, raw: Any, key: str) -> Any:
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            if raw is None and type(None) in args:
                return None
            inner = [a for a in args if a is not type(None)]
            if len(inner) == 1:
                return self.value(inner[0], raw, key)
            self.fail(key, f"unsupported union {tp}")
        if dataclasses.is_dataclass(tp):
            return self.section(tp, raw, key)
        if isinstance(raw, str):
            raw = self.expand(key, raw)
        if origin is Literal:
            if raw not in args:
                self.fail(key, f"expected one of {', '.join(map(str, args))}, got {raw!r}")
            return raw
        if tp is Secret:
            if not isinstance(raw, str):
                self.fail(key, "expected a string (or a ${ENV} reference)")
            return Secret(raw)
        if tp is bool:
            if not isinstance(raw, bool):
                self.fail(key, f"expected true or false, got {raw!r}")
            return raw
        if tp is int:
            if isinstance(raw, bool) or not isinstance(raw, int):
                self.fail(key, f"expected an integer, got {raw!r}")
            return raw
        if tp is float:
            if isinstance(raw, str):
                try:
                    raw = float(raw)  # YAML reads 1e-4 (no dot) as a string
                except ValueError:
                    pass
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                self.fail(key, f"expected a number, got {raw!r}")
            return float(raw)
        if tp is str:
            if not isinstance(raw, str):
                self.fail(key, f"expected a string, got {raw!r}")
            return raw
        if tp is Path:
            if not isinstance(raw, str) or not raw:
                self.fail(key, f"expected a path string, got {raw!r}")
            return Path(raw).expanduser().absolute()
        if origin is tuple:
            if isinstance(raw, str):
                raw = [s.strip() for s in raw.split(",") if s.strip()]
            if not isinstance(raw, list):
                self.fail(key, f"expected a list (or a comma-separated string), got {raw!r}")
            return tuple(self.value(args[0], v, f"{key}[{i}]") for i, v in enumerate(raw))
        if origin is dict:
            if raw is None:
                return {}
            if not isinstance(raw, dict):
                self.fail(key, f"expected a mapping, got {raw!r}")
            return {str(k): self.expand(f"{key}.{k}", v) if isinstance(v, str) else v for k, v in raw.items()}
        self.fail(key, f"unsupported type {tp}")


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _dig(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part, None) if not isinstance(obj, dict) else obj.get(part)
    return obj


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read, type-check and validate the YAML at ``path``; raise ``ConfigError`` naming the key and the file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(path, None, f"cannot read: {e.strerror or e}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(path, None, f"not valid YAML: {e}") from None
    if raw is None or raw == {}:  # a truncated or wrong file would otherwise run on every default (127.0.0.1:19092)
        raise ConfigError(path, None, "holds no settings (empty, or only comments); a config names at least its "
                          "kafka section (see conf/local.yaml)")
    loader = _Loader(path, os.environ if env is None else env)
    cfg = loader.section(Config, raw, "")
    return dataclasses.replace(cfg, source=path.absolute())
