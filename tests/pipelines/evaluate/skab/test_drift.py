"""The slow-channel rule: which channels it finds, which features it silences, and that they then read ~0."""

from __future__ import annotations

import numpy as np

from pipelines.evaluate.skab.drift import channel_slowness, channel_trend, drift_guard, level_features
from pipelines.model.scaler import Scaler


def test_slowness_tells_a_smooth_channel_from_white_noise():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=4000)
    smooth = np.cumsum(rng.normal(size=4000)) * 0.01 + np.linspace(0, 5, 4000)
    s = channel_slowness(np.c_[noise, smooth])
    assert abs(s[0] - np.sqrt(2)) < 0.05 and s[1] < 0.1


def test_trend_is_the_line_s_movement_in_residual_standard_deviations():
    t = np.arange(400.0)
    rng = np.random.default_rng(1)
    x = np.c_[0.01 * t + rng.normal(size=400), rng.normal(size=400)]
    tr = channel_trend(x)
    assert 3.5 < tr[0] < 4.5 and tr[1] < 0.5


def test_level_features_of_summary_and_flatten_windows():
    # summary: per channel mean, std, min, max, delta -> mean, min, max of channel 1 are 5, 7, 8
    assert level_features(np.array([1]), 3, 10, "summary").tolist() == [5, 7, 8]
    # flatten: time-major, channel 2 of 3 at every one of 2 steps
    assert level_features(np.array([2]), 3, 2, "flatten").tolist() == [2, 5]
    assert level_features(np.array([], dtype=np.int64), 3, 2, "flatten").tolist() == []


def test_a_guarded_feature_reads_zero_whatever_it_holds():
    X = np.random.default_rng(2).normal(size=(100, 3))
    guarded = drift_guard(Scaler.fit(X), np.array([1]))
    Z = guarded.transform(np.c_[X[:, 0], X[:, 1] + 1e6, X[:, 2]])
    assert np.abs(Z[:, 1]).max() < 1e-5 and np.allclose(Z[:, [0, 2]], Scaler.fit(X).transform(X)[:, [0, 2]])
