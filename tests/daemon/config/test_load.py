from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from daemon.config import Config, ConfigError, Secret, load_config

REPO = Path(__file__).resolve().parents[3]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return p


def test_bundled_local_config_loads_with_the_local_broker_and_topics():
    cfg = load_config(REPO / "conf" / "local.yaml")
    assert cfg.kafka.bootstrap_servers == ("127.0.0.1:19092",)
    assert (cfg.kafka.input_topic, cfg.kafka.alert_topic, cfg.kafka.dead_letter_topic) == (
        "latentwatch.windows",
        "latentwatch.alerts",
        "latentwatch.deadletter",
    )
    assert cfg.artifact.root is not None and cfg.artifact.root.parts[-2:] == ("var", "artifacts")
    assert cfg.http.host == "127.0.0.1"
    assert cfg.source == (REPO / "conf" / "local.yaml").absolute()


def test_example_secure_config_loads_when_its_files_exist(tmp_path):
    text = (REPO / "conf" / "example-secure.yaml").read_text()
    for name in ("kafka-password", "ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_text("s3cret\n" if name == "kafka-password" else "x")
    text = text.replace("/etc/latentwatch/", f"{tmp_path}/")
    cfg = load_config(write(tmp_path, text), env={"HOSTNAME": "node7"})
    sec = cfg.kafka.security
    assert sec.security_protocol == "SASL_SSL" and sec.sasl_mechanism == "SCRAM-SHA-512"
    assert cfg.kafka.client_id == "latentwatch-node7"
    kw = sec.client_kwargs()
    assert kw["sasl_plain_password"] == "s3cret"
    assert kw["ssl_cafile"] == str(tmp_path / "ca.pem")
    assert "s3cret" not in repr(cfg) and "s3cret" not in str(cfg)


def test_missing_ssl_file_names_the_key(tmp_path):
    p = write(tmp_path, "kafka:\n  security:\n    security_protocol: SSL\n    ssl_cafile: /nonexistent/ca.pem\n")
    with pytest.raises(ConfigError, match=r"kafka\.security\.ssl_cafile: expected an existing file"):
        load_config(p)


@pytest.mark.parametrize("text", ["", "\n\n", "# kafka:\n#   bootstrap_servers: [broker:9092]\n", "---\n", "{}\n"])
def test_empty_or_comment_only_file_is_refused_not_run_on_defaults(tmp_path, text):
    with pytest.raises(ConfigError, match=r"c\.yaml: holds no settings \(empty, or only comments\)"):
        load_config(write(tmp_path, text))


def test_one_section_is_enough_the_rest_are_defaults(tmp_path):
    cfg = load_config(write(tmp_path, "kafka:\n  group_id: g\n"))
    assert dataclasses.replace(cfg, source=None) == dataclasses.replace(
        Config(), kafka=dataclasses.replace(Config().kafka, group_id="g")
    )


@pytest.mark.parametrize(
    "text, key",
    [
        ("kafka:\n  bootstrap_server: x:1\n", "kafka.bootstrap_server"),
        ("threshold:\n  methd: spot\n", "threshold.methd"),
        ("kafka:\n  security:\n    sasl_password: x\n", "kafka.security.sasl_password"),
        ("nonsense: 1\n", "nonsense"),
    ],
)
def test_unknown_key_is_an_error_naming_dotted_key_and_file(tmp_path, text, key):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as ei:
        load_config(p)
    msg = str(ei.value)
    assert str(p) in msg and f"{key}: unknown key" in msg
    assert ei.value.key == key


@pytest.mark.parametrize(
    "text, key, expected",
    [
        ("batching:\n  max_records: ten\n", "batching.max_records", "an integer"),
        ("batching:\n  max_records: 0\n", "batching.max_records", "a positive integer"),
        ("batching:\n  max_records: 100\n  max_in_flight: 10\n", "batching.max_in_flight", ">= batching.max_records"),
        ("threshold:\n  method: pot\n", "threshold.method", "one of spot, dspot"),
        ("threshold:\n  q: 2\n", "threshold.q", "a risk in (0, 1)"),
        ("http:\n  enabled: yes please\n", "http.enabled", "true or false"),
        ("http:\n  port: 70000\n", "http.port", "a TCP port"),
        ("kafka:\n  bootstrap_servers: [localhost]\n", "kafka.bootstrap_servers", "host:port"),
        ("kafka:\n  input_topic: a\n  alert_topic: a\n", "kafka.alert_topic", "three different topics"),
        (
            "kafka:\n  consumer:\n    not_a_setting: 1\n",
            "kafka.consumer.not_a_setting",
            "kafka-python consumer setting",
        ),
        (
            "kafka:\n  consumer:\n    enable_auto_commit: true\n",
            "kafka.consumer.enable_auto_commit",
            "not to be overridden",
        ),
        ("kafka:\n  producer:\n    acks: 1\n", "kafka.producer.acks", "not to be overridden"),
        ("logging: [1]\n", "logging", "a mapping"),
        ("episodes:\n  update_every: 1.5\n", "episodes.update_every", "an integer"),
        ("episodes:\n  update_every: -1\n", "episodes.update_every", ">= 0"),
        ("episodes:\n  quiet_seconds: 0\n", "episodes.quiet_seconds", "or null"),
        ("dead_letter:\n  max_ratio: 0\n", "dead_letter.max_ratio", "(0, 1]"),
        (
            "kafka:\n  security:\n    security_protocol: SASL_SSL\n    sasl_mechanism: PLAIN\n"
            "    sasl_plain_username: u\n",
            "kafka.security.sasl_plain_password",
            "a password",
        ),
    ],
)
def test_bad_value_names_key_file_and_expectation(tmp_path, text, key, expected):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as ei:
        load_config(p)
    msg = str(ei.value)
    assert msg.startswith(f"{p}: {key}: "), msg
    assert expected in msg


def test_unreadable_and_invalid_yaml_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "kafka: [\n"))


def test_env_references_are_expanded_and_an_unset_one_is_an_error(tmp_path):
    p = write(
        tmp_path,
        "kafka:\n  group_id: lw-${SITE}\n  security:\n    security_protocol: SASL_PLAINTEXT\n"
        "    sasl_mechanism: PLAIN\n    sasl_plain_username: u\n    sasl_plain_password: ${PW}\n",
    )
    cfg = load_config(p, env={"SITE": "a", "PW": "hunter2"})
    assert cfg.kafka.group_id == "lw-a"
    assert cfg.kafka.security.sasl_plain_password == Secret("hunter2")
    assert "hunter2" not in repr(cfg)
    with pytest.raises(ConfigError, match=r"kafka\.security\.sasl_plain_password: environment variable PW"):
        load_config(p, env={"SITE": "a"})


def test_password_and_password_file_are_exclusive(tmp_path):
    (tmp_path / "pw").write_text("x")
    p = write(
        tmp_path, f"kafka:\n  security:\n    sasl_plain_password: a\n    sasl_plain_password_file: {tmp_path}/pw\n"
    )
    with pytest.raises(ConfigError, match="only one of"):
        load_config(p)


def test_secret_never_shows_its_value():
    s = Secret("topsecret")
    assert "topsecret" not in repr(s) and "topsecret" not in str(s) and "topsecret" not in f"{s}"
    assert s.reveal() == "topsecret"


def test_config_is_frozen_and_relative_paths_are_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config(write(tmp_path, "threshold:\n  checkpoint_path: state/x.json\n"))
    assert cfg.threshold.checkpoint_path == tmp_path / "state" / "x.json"
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.threshold.q = 0.5  # type: ignore[misc]


def test_bootstrap_servers_accepts_a_comma_separated_string(tmp_path):
    cfg = load_config(write(tmp_path, "kafka:\n  bootstrap_servers: 'a:1, b:2'\n"))
    assert cfg.kafka.bootstrap_servers == ("a:1", "b:2")
    assert re.fullmatch(r".*c\.yaml", str(cfg.source))


def test_null_turns_off_the_seconds_based_episode_rules(tmp_path):
    cfg = load_config(write(tmp_path, "episodes:\n  quiet_seconds: null\n  max_duration_s: ~\n  update_every: 0\n"))
    assert cfg.episodes.quiet_seconds is None and cfg.episodes.max_duration_s is None
    assert cfg.episodes.update_every == 0
