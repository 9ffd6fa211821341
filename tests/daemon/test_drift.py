"""The per-asset drift detectors (daemon/drift.py) on synthetic error streams with a known change."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from daemon.config.drift import DriftConfig
from daemon.drift import HISTORY, DriftDetectors

T0 = 1_700_000_000.0


def errors(levels: list[tuple[int, float]], seed: int = 0) -> np.ndarray:
    """Lognormal errors, ``n`` windows at each median level in turn."""
    rng = np.random.default_rng(seed)
    return np.concatenate([level * rng.lognormal(0.0, 0.3, n) for n, level in levels])


def feed(det: DriftDetectors, streams: dict[str, np.ndarray], batch: int = 100) -> list:
    """The assets interleaved window by window, ``batch`` windows of each per call, 10 s apart."""
    n = max(len(e) for e in streams.values())
    found = []
    for start in range(0, n, batch):
        assets, ts, err = [], [], []
        for i in range(start, min(n, start + batch)):
            for a, e in streams.items():
                if i < len(e):
                    assets.append(a)
                    ts.append(T0 + 10 * i)
                    err.append(e[i])
        found += det.observe(assets, np.asarray(ts), np.asarray(err))
    return found


@pytest.mark.parametrize("detector", ["adwin", "page_hinkley"])
def test_a_level_shift_is_one_drift_on_that_asset_only(detector):
    cfg = DriftConfig(detector=detector, min_windows=300, cooldown_s=3600)
    found = feed(DriftDetectors(cfg), {"moved": errors([(600, 1.0), (600, 2.0)]), "steady": errors([(1200, 1.0)], 1)})
    assert [d.asset for d in found] == ["moved"]
    d = found[0]
    assert d.detector == detector
    assert 0.85 < d.before < 1.15 and 1.7 < d.after < 2.3
    assert T0 + 10 * 600 <= d.at < T0 + 10 * 800  # found within 200 windows of the change
    assert abs(d.since - (T0 + 10 * 600)) <= 10 * 20  # where it began


def test_min_windows_before_it_can_fire():
    stream = {"a": errors([(150, 1.0), (300, 3.0)])}
    assert feed(DriftDetectors(DriftConfig(min_windows=20)), stream)
    assert not feed(DriftDetectors(DriftConfig(min_windows=1000)), stream)


def test_cooldown_in_event_time():
    stream = {"a": errors([(400, 1.0), (400, 2.0), (400, 4.0)])}  # two changes 4000 s apart
    assert len(feed(DriftDetectors(DriftConfig(min_windows=100, cooldown_s=0)), stream)) >= 2
    assert len(feed(DriftDetectors(DriftConfig(min_windows=100, cooldown_s=10 * 1200)), stream)) == 1


def test_levels_are_relative_so_one_setting_fits_any_scale():
    small = feed(DriftDetectors(DriftConfig()), {"a": errors([(600, 1e-3), (600, 2e-3)])})
    large = feed(DriftDetectors(DriftConfig()), {"a": errors([(600, 1e3), (600, 2e3)])})
    assert [round(d.at) for d in small] == [round(d.at) for d in large] and small


def test_every_nth_window_feeds_the_detector():
    det = DriftDetectors(DriftConfig(every=10))
    feed(det, {"a": errors([(1000, 1.0)])}, batch=37)  # batches that do not divide by 10
    assert det.tracks["a"].pos == 100


def test_tracked_assets_are_capped_least_recently_seen_first():
    det = DriftDetectors(DriftConfig(max_assets=3))
    for a in ["a", "b", "c", "a", "d"]:
        det.observe([a], np.asarray([T0]), np.asarray([1.0]))
    assert list(det.tracks) == ["c", "a", "d"]
    assert len(det.tracks["a"].ts) == HISTORY


def test_reset_forgets_every_asset():
    det = DriftDetectors(DriftConfig())
    det.observe(["a", "b"], np.asarray([T0, T0]), np.asarray([1.0, 0.0]))  # an error of 0 is fed, not NaN
    assert np.isfinite(det.tracks["b"].y[0])
    det.reset()
    assert not det.tracks


def test_config_is_what_the_detector_runs_with():
    cfg = dataclasses.replace(DriftConfig(), adwin_delta=1e-5)
    assert DriftDetectors(cfg).__class__ and DriftDetectors(cfg)._track("a").detector.delta == 1e-5
