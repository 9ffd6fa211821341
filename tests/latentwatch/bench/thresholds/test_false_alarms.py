import numpy as np
import pytest

from latentwatch.bench.thresholds import run_synthetic
from latentwatch.bench.thresholds.false_alarms import Stream, poisson_interval, replay_thresholds
from pipelines.threshold import ThresholdBank


def test_poisson_interval_known_values():
    lo, hi = poisson_interval(0, 1000)
    assert lo == 0.0 and hi == pytest.approx(3.689 / 1000, rel=1e-3)  # exact upper bound for k=0
    lo, hi = poisson_interval(10, 1000)
    assert lo == pytest.approx(4.795 / 1000, rel=1e-3) and hi == pytest.approx(18.39 / 1000, rel=1e-3)


def stream(n: int = 30_000, shift_at: int | None = None) -> Stream:
    rng = np.random.default_rng(3)
    scores = rng.exponential(size=n)
    if shift_at is not None:
        scores[shift_at:] += 8.0
    assets = [f"a{i % 3}" for i in range(n)]
    return Stream("synthetic", rng.exponential(size=5000), assets, scores, 0.0)


def test_replay_counts_what_the_bank_decides():
    s = stream()
    r = replay_thresholds(s, "spot", 1e-3, 1, batch=700)
    bank = ThresholdBank("spot", s.calibration, q=1e-3, refit_every=1)
    alarms, _ = bank.process(s.assets, s.scores)
    assert r["alarms"] == int(alarms.sum()) and r["windows"] == len(s.scores)
    assert r["ci95"][0] <= r["rate"] <= r["ci95"][1]
    assert r["rate_over_q"] < 5  # i.i.d. scores like the calibration's: near q


def test_a_shifted_stream_shows_as_false_alarms():
    assert replay_thresholds(stream(shift_at=20_000), "spot", 1e-3, 10)["rate_over_q"] > 100


@pytest.mark.parametrize("every", [1, 10])
def test_refit_every_fits_once_per_that_many_peaks(monkeypatch, every):
    import pipelines.threshold.spot as spot_mod

    sizes = []
    real = spot_mod.grimshaw
    monkeypatch.setattr(spot_mod, "grimshaw", lambda peaks, *bound: sizes.append(len(peaks)) or real(peaks, *bound))
    run_synthetic("spot", 1, 5_000, 1000, q=1e-4, refit_every=every)
    cal = sizes[0]  # the calibration fit; then one fit per `every` new stream peaks
    assert sizes[1:6] == [cal + every * i for i in range(1, 6)]
