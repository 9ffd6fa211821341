import pytest

from daemon.config import ConfigError, load_config
from daemon.kafka_clients import consumer_settings, producer_settings


def write(tmp_path, producer: str) -> object:
    path = tmp_path / "c.yaml"
    path.write_text(f"kafka:\n  bootstrap_servers: ['127.0.0.1:1']\n  group_id: g\n  producer: {producer}\n")
    return load_config(path).kafka


def test_producer_is_idempotent_with_large_batches_unless_the_config_says_otherwise(tmp_path):
    s = producer_settings(write(tmp_path, "{}"))
    assert s["acks"] == "all" and s["enable_idempotence"] is True and s["batch_size"] == 262_144
    assert producer_settings(write(tmp_path, "{batch_size: 16384}"))["batch_size"] == 16384
    with pytest.raises(ConfigError, match="kafka.producer.acks"):  # at-least-once rests on it: not configurable
        write(tmp_path, "{acks: 1}")


def test_consumer_commits_manually(tmp_path):
    s = consumer_settings(write(tmp_path, "{}"))
    assert s["enable_auto_commit"] is False and s["group_id"] == "g"


def test_consumer_fetch_wait_is_short_unless_the_config_says_otherwise(tmp_path):
    path = tmp_path / "override.yaml"
    path.write_text(
        "kafka:\n  bootstrap_servers: ['127.0.0.1:1']\n  group_id: g\n  consumer: {fetch_max_wait_ms: 200}\n"
    )
    assert consumer_settings(write(tmp_path, "{}"))["fetch_max_wait_ms"] == 50
    assert consumer_settings(load_config(path).kafka)["fetch_max_wait_ms"] == 200


def test_a_dead_member_leaves_the_group_in_10_s_not_kafka_pythons_45_unless_configured(tmp_path):
    s = consumer_settings(write(tmp_path, "{}"))
    assert (s["session_timeout_ms"], s["heartbeat_interval_ms"]) == (10_000, 3_000)
    path = tmp_path / "long.yaml"
    path.write_text("kafka:\n  bootstrap_servers: ['127.0.0.1:1']\n  consumer: {session_timeout_ms: 45000}\n")
    assert consumer_settings(load_config(path).kafka)["session_timeout_ms"] == 45_000


def test_each_connection_attempt_is_short_so_start_up_can_report_between_them(tmp_path):
    assert consumer_settings(write(tmp_path, "{}"))["bootstrap_timeout_ms"] == 5_000
    assert producer_settings(write(tmp_path, "{}"))["bootstrap_timeout_ms"] == 5_000
