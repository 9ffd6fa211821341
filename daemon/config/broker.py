"""The ``kafka`` section: where the broker is, the topics and group, security, and the passthrough settings for
kafka-python's clients (which may not override what the daemon's guarantees rest on)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from daemon.config.base import Secret, doc, require


@dataclass(frozen=True)
class SecurityConfig:
    """How the daemon authenticates to the brokers (``conf/example-secure.yaml`` is a SASL_SSL example)."""

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = field(
        default="PLAINTEXT", metadata=doc("transport and authentication to the brokers")
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = field(
        default=None, metadata=doc("required with a SASL_* protocol")
    )
    sasl_plain_username: str | None = field(default=None, metadata=doc("required with a SASL_* protocol"))
    sasl_plain_password: Secret | None = field(
        default=None, metadata=doc("the SASL password (a secret: use `${ENV}` or the `_file` key, not the YAML)")
    )
    sasl_plain_password_file: Path | None = field(
        default=None, metadata=doc("a file holding the password (one trailing newline is stripped); not with the key")
    )
    ssl_cafile: Path | None = field(default=None, metadata=doc("CA bundle that signs the brokers' certificates"))
    ssl_certfile: Path | None = field(default=None, metadata=doc("client certificate (mutual TLS)"))
    ssl_keyfile: Path | None = field(default=None, metadata=doc("client certificate's private key"))
    ssl_check_hostname: bool = field(default=True, metadata=doc("check the broker certificate's host name"))

    def check(self) -> None:
        sasl = self.security_protocol.startswith("SASL_")
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile", "sasl_plain_password_file"):
            p = getattr(self, name)
            require(p is None or p.is_file(), name, "an existing file")
        require(
            not (self.sasl_plain_password and self.sasl_plain_password_file),
            "sasl_plain_password_file",
            "only one of sasl_plain_password and sasl_plain_password_file",
        )
        require(
            not sasl or self.sasl_mechanism is not None,
            "sasl_mechanism",
            f"a mechanism when security_protocol is {self.security_protocol}",
        )
        require(
            not sasl or bool(self.sasl_plain_username),
            "sasl_plain_username",
            f"a username when security_protocol is {self.security_protocol}",
        )
        require(
            not sasl or self.password() is not None,
            "sasl_plain_password",
            f"a password (or sasl_plain_password_file) when security_protocol is {self.security_protocol}",
        )

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
            out.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.sasl_plain_username,
                sasl_plain_password=password.reveal() if password else None,
            )
        if self.security_protocol in ("SSL", "SASL_SSL"):
            out["ssl_check_hostname"] = self.ssl_check_hostname
            for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
                if getattr(self, name) is not None:
                    out[name] = str(getattr(self, name))
        return out


# Settings the daemon's guarantees rest on; the passthrough dicts may not override them.
_SECURITY = frozenset(
    {
        "security_protocol",
        "sasl_mechanism",
        "sasl_plain_username",
        "sasl_plain_password",
        "ssl_cafile",
        "ssl_certfile",
        "ssl_keyfile",
        "ssl_check_hostname",
    }
)
_MANAGED_CONSUMER = _SECURITY | frozenset(
    {
        "bootstrap_servers",
        "group_id",
        "client_id",
        "enable_auto_commit",
        "key_deserializer",
        "value_deserializer",
    }
)
_MANAGED_PRODUCER = _SECURITY | frozenset(
    {
        "bootstrap_servers",
        "client_id",
        "acks",
        "enable_idempotence",
        "key_serializer",
        "value_serializer",
        "transactional_id",
    }
)


@dataclass(frozen=True)
class KafkaConfig:
    """Where the broker is, the three topics and the consumer group. The daemon creates no topics: the alert and
    dead-letter topics must exist at start."""

    bootstrap_servers: tuple[str, ...] = field(
        default=("127.0.0.1:19092",), metadata=doc("host:port entries (a list or a comma-separated string)")
    )
    input_topic: str = field(default="latentwatch.windows", metadata=doc("windows are consumed from it"))
    alert_topic: str = field(default="latentwatch.alerts", metadata=doc("alerts are published to it, keyed by asset"))
    dead_letter_topic: str = field(
        default="latentwatch.deadletter", metadata=doc("messages that cannot become a window, with their reason")
    )
    group_id: str = field(default="latentwatch", metadata=doc("daemons in one group split the input partitions"))
    client_id: str = field(default="latentwatch", metadata=doc("the name the brokers log"))
    auto_offset_reset: Literal["earliest", "latest"] = field(
        default="earliest", metadata=doc("where a group with no committed offset starts")
    )
    security: SecurityConfig = field(default_factory=SecurityConfig)
    consumer: dict[str, Any] = field(
        default_factory=dict,
        metadata=doc("kafka-python consumer settings passed through (not those the daemon sets; fetch_max_wait_ms 50)"),
    )
    producer: dict[str, Any] = field(
        default_factory=dict,
        metadata=doc(
            "kafka-python producer settings passed through (acks=all and idempotence fixed; batch_size 256 KiB)"
        ),
    )
    connect_timeout_s: float = field(
        default=120.0,
        metadata=doc("a broker down at start is retried this long, then exit 1 (under systemd's TimeoutStartSec 180)"),
    )

    def check(self) -> None:
        require(len(self.bootstrap_servers) > 0, "bootstrap_servers", "at least one host:port")
        require(self.connect_timeout_s >= 0, "connect_timeout_s", "a number of seconds >= 0")
        for s in self.bootstrap_servers:
            require(bool(re.fullmatch(r"[^\s:]+:\d{1,5}", s)), "bootstrap_servers", f"host:port entries, got {s!r}")
        for name in ("input_topic", "alert_topic", "dead_letter_topic", "group_id", "client_id"):
            require(
                bool(re.fullmatch(r"[A-Za-z0-9._-]{1,249}", getattr(self, name))),
                name,
                "a non-empty Kafka name of letters, digits, '.', '_' or '-'",
            )
        require(
            len({self.input_topic, self.alert_topic, self.dead_letter_topic}) == 3,
            "alert_topic",
            "input, alert and dead-letter topics to be three different topics",
        )
        from kafka import KafkaConsumer, KafkaProducer

        for section, known, managed in (
            ("consumer", KafkaConsumer.DEFAULT_CONFIG, _MANAGED_CONSUMER),
            ("producer", KafkaProducer.DEFAULT_CONFIG, _MANAGED_PRODUCER),
        ):
            for k in getattr(self, section):
                require(k in known, f"{section}.{k}", f"a kafka-python {section} setting (unknown key)")
                require(
                    k not in managed,
                    f"{section}.{k}",
                    "not to be overridden here: the daemon sets it (see the kafka section)",
                )
