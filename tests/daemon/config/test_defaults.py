"""The config's defaults are the ones that run: the classes built without arguments behave like the daemon built
from an empty config, and the bundled conf/local.yaml states the same values."""

from dataclasses import asdict
from pathlib import Path

import numpy as np

from daemon.config import Config, load_config
from pipelines.episodes import EpisodeTracker
from pipelines.threshold import DSPOT, SPOT, ThresholdBank

CAL = np.random.default_rng(0).exponential(size=2000)


def test_threshold_classes_default_to_the_config():
    cfg = Config().threshold
    bank = ThresholdBank.from_settings(cfg, CAL)
    assert bank.method == cfg.method == "dspot"
    assert bank.detector("a").params() == DSPOT().params()
    p = DSPOT().params()
    assert (p["q"], p["level"], p["depth"], p["refit_every"], p["max_shape"], p["max_peak_ratio"]) == (
        cfg.q,
        cfg.level,
        cfg.depth,
        cfg.refit_every,
        cfg.max_shape,
        cfg.max_peak_ratio,
    )
    assert {k: v for k, v in p.items() if k != "depth"} == SPOT().params()
    assert "absorb_after" not in p and not hasattr(cfg, "absorb_after")


def test_episode_tracker_defaults_to_the_config():
    cfg = Config().episodes
    assert (
        EpisodeTracker.from_settings(cfg).params()
        == EpisodeTracker().params()
        == {
            "quiet_windows": cfg.quiet_windows,
            "quiet_seconds": cfg.quiet_seconds,
            "max_duration_s": cfg.max_duration_s,
            "update_every": cfg.update_every,
        }
    )


def test_the_bundled_config_states_the_defaults():
    bundled = load_config(Path(__file__).resolve().parents[3] / "conf" / "local.yaml")
    paths = ("checkpoint_path",)
    assert {k: v for k, v in asdict(bundled.threshold).items() if k not in paths} == {
        k: v for k, v in asdict(Config().threshold).items() if k not in paths
    }
    assert bundled.episodes == Config().episodes
