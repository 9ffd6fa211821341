"""The ``drift`` section: its defaults and the errors a bad value gives (file and dotted key)."""

from __future__ import annotations

import pytest
import yaml

from daemon.config import ConfigError, load_config


def write(tmp_path, drift):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"kafka": {"input_topic": "in"}, "drift": drift}))
    return path


def test_defaults_and_a_command_list(tmp_path):
    cfg = load_config(write(tmp_path, {"detector": "page_hinkley", "refresh_command": ["/bin/true", "x"]}))
    assert cfg.drift.detector == "page_hinkley" and cfg.drift.refresh_command == ("/bin/true", "x")
    assert load_config(write(tmp_path, {})).drift.detector == "adwin"


@pytest.mark.parametrize(
    ("drift", "key"),
    [
        ({"detector": "kswin"}, "drift.detector"),
        ({"min_windows": 3}, "drift.min_windows"),
        ({"adwin_delta": 1.5}, "drift.adwin_delta"),
        ({"on_drift": "later"}, "drift.on_drift"),
        ({"refresh_command": []}, "drift.refresh_command"),
        ({"every": 0}, "drift.every"),
        ({"windows": 3}, "drift.windows"),
    ],
)
def test_a_bad_value_names_its_key(tmp_path, drift, key):
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, drift))
    assert e.value.key == key and str(tmp_path / "c.yaml") in str(e.value)
