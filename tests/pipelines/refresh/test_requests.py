"""Refresh requests (the daemon's refresh-request.json): drift's since, removing what was honoured."""

from __future__ import annotations

import pytest

from daemon.threshold_guard import request_refresh
from pipelines.refresh.requests import drift_since, read_requests, remove_honoured


def test_drift_since_takes_the_latest_drift_time_per_asset():
    reqs = [
        {"asset": "a", "source": "drift", "since": "2026-01-01T00:00:00Z"},
        {"asset": "a", "source": "drift", "since": 1_767_225_700_000},
        {"asset": "b", "source": "threshold_guard"},
        {"asset": "c", "source": "drift"},
    ]
    assert drift_since(reqs) == {"a": 1_767_225_700_000}


def test_honoured_requests_go_and_ones_added_meanwhile_stay(tmp_path):
    path = tmp_path / "refresh-request.json"
    assert read_requests(path) == []
    request_refresh(path, "a", "peaks", now=0)
    request_refresh(path, "b", "drift", source="drift", now=0)
    honoured = read_requests(path)
    request_refresh(path, "c", "peaks", now=10)  # arrives while the refresh runs
    request_refresh(path, "a", "peaks again", now=20)  # renewed: a new time, so not the honoured entry
    assert remove_honoured(path, honoured) == 1
    assert [(r["asset"], r["reason"]) for r in read_requests(path)] == [("c", "peaks"), ("a", "peaks again")]
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        read_requests(path)
