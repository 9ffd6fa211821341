"""The throughput measurement's bookkeeping (rates and ratios; no timing is asserted)."""

from __future__ import annotations

import numpy as np
import pytest

from latentwatch.bench.peers.throughput import measure


def test_every_method_scores_every_batch_and_the_reference_ratio_is_one():
    seen: dict[str, int] = {"ares": 0, "other": 0}

    def method(name):
        def score(X):
            seen[name] += len(X)
            return X.sum(1)

        return score

    out = measure({"ares": method("ares"), "other": method("other")}, np.ones((100, 3)), batch=25, rounds=2)
    assert seen == {"ares": 25 + 200, "other": 25 + 200}  # one warm-up batch, then 4 batches x 2 rounds
    assert out["ares"]["vs"] == pytest.approx(1.0)
    assert out["other"]["windows_per_s"] > 0


def test_no_reference_method_gives_no_ratio_and_too_few_rows_is_refused():
    assert measure({"x": lambda X: X}, np.ones((10, 2)), batch=5, rounds=1)["x"]["vs"] is None
    with pytest.raises(ValueError, match="need at least one method and 50 windows"):
        measure({"x": lambda X: X}, np.ones((10, 2)), batch=50, rounds=1)
