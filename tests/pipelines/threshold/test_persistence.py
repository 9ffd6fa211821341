"""Persistence (m of the last n windows) and hysteresis (release after r quiet windows), per asset."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipelines.threshold import ThresholdBank
from pipelines.threshold.persistence import Persistence, decide


def _run(p: Persistence, raw: str, asset: str = "a") -> str:
    return "".join("1" if p.step(asset, c == "1") else "0" for c in raw)


def test_one_spike_does_not_alarm_three_of_five_do():
    p = Persistence(m=3, n=5, release=2)
    assert _run(p, "1000010000") == "0000000000"
    assert _run(Persistence(3, 5, 2), "1010100") == "0000110"


def test_an_alarm_holds_through_dips_shorter_than_release_and_ends_after_release_quiet_windows():
    p = Persistence(m=2, n=3, release=3)
    assert _run(p, "110100100000") == "011111111000"


def test_release_clears_the_history_so_the_opening_windows_cannot_reopen_it():
    p = Persistence(m=3, n=5, release=2)
    # opened by 111, released after 00; with the history kept, 1,1,1 still inside the last 5 would reopen at once
    assert _run(p, "111001") == "001100"


def test_assets_keep_their_own_history():
    p = Persistence(m=2, n=2, release=1)
    out = p.process(["a", "b", "a", "b", "b"], np.array([1, 0, 1, 0, 1], dtype=bool))
    assert out.tolist() == [False, False, True, False, False]


def test_identity_is_the_raw_alarm():
    raw = np.array([1, 0, 1, 1, 0], dtype=bool)
    assert Persistence().identity and Persistence().process(list("aaaaa"), raw).tolist() == raw.tolist()


def test_state_round_trip_continues_identically():
    rng = np.random.default_rng(3)
    raw = rng.random(400) < 0.3
    assets = [f"a{i % 3}" for i in range(400)]
    whole = Persistence(3, 6, 4).process(assets, raw)
    first = Persistence(3, 6, 4)
    head = first.process(assets[:170], raw[:170])
    resumed = Persistence.from_state(json.loads(json.dumps(first.state())))
    assert np.array_equal(np.r_[head, resumed.process(assets[170:], raw[170:])], whole)


def test_bad_parameters_and_lengths_are_refused():
    with pytest.raises(ValueError, match="1 <= m <= n"):
        Persistence(m=4, n=3)
    with pytest.raises(ValueError, match="release"):
        Persistence(release=0)
    with pytest.raises(ValueError, match="2 assets for 3 alarms"):
        Persistence(2, 3).process(["a", "b"], np.zeros(3, dtype=bool))


def test_decide_applies_the_bank_then_persistence():
    cal = np.random.default_rng(0).exponential(size=2000)
    scores = np.r_[np.full(5, 0.1), 50.0, np.full(5, 0.1), np.full(6, 50.0), np.full(5, 0.1)]
    assets = ["a"] * scores.size
    raw, thr = decide(ThresholdBank("spot", cal, q=1e-3, level=0.9), None, assets, scores)
    held, thr2 = decide(ThresholdBank("spot", cal, q=1e-3, level=0.9), Persistence(3, 4, 3), assets, scores)
    assert raw.sum() == 7 and np.array_equal(thr, thr2)
    # the lone spike at 5 is gone; the fault opens on its 3rd window and holds 2 windows past its end
    assert np.flatnonzero(held).tolist() == list(range(13, 19))
