"""The ``refresh`` config section: its keys are typed and checked, an unknown one is an error naming it."""

from __future__ import annotations

import pytest
import yaml

from daemon.config import ConfigError, load_config


def _load(tmp_path, refresh):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"kafka": {"bootstrap_servers": ["127.0.0.1:1"]}, "refresh": refresh}))
    return load_config(path)


def test_refresh_keys_are_read(tmp_path):
    cfg = _load(tmp_path, {"lookback_s": 3600, "labels": "labels.npz", "keep_versions": 3})
    assert cfg.refresh.lookback_s == 3600.0 and cfg.refresh.keep_versions == 3
    assert cfg.refresh.labels is not None and cfg.refresh.labels.name == "labels.npz"


@pytest.mark.parametrize(
    ("refresh", "message"),
    [
        ({"lookbak_s": 1}, "refresh.lookbak_s: unknown key"),
        ({"exclude_quantile": 0}, "refresh.exclude_quantile: expected a quantile in (0, 1]"),
        ({"keep_versions": 1}, "refresh.keep_versions: expected an integer >= 2"),
        ({"holdout_fraction": 0.7}, "refresh.holdout_fraction: expected a fraction in (0, 0.5)"),
    ],
)
def test_bad_refresh_keys_name_the_key(tmp_path, refresh, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _load(tmp_path, refresh)
