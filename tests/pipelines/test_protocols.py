"""The pipelines classes the daemon calls have every member of the Protocol it calls them through (mypy checks the
types; this catches a renamed or dropped method at test time too)."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines import protocols
from pipelines.episodes import EpisodeEvent, EpisodeTracker
from pipelines.online import OnlineModel, ScoredBatch
from pipelines.threshold import ThresholdBank
from pipelines.threshold.persistence import Persistence

CAL = np.random.default_rng(0).exponential(size=2000)


@pytest.mark.parametrize(
    "obj, protocol",
    [
        (ThresholdBank("spot", CAL), protocols.Thresholds),
        (ThresholdBank("dspot", CAL), protocols.Thresholds),
        (Persistence(2, 3), protocols.Decisions),
        (EpisodeTracker(), protocols.Episodes),
        (EpisodeEvent("open", "id", "a", 1.0, 1.0, 1, 2.0), protocols.Event),
        (ScoredBatch(score=np.zeros(1), components={}, neighbours=np.zeros((1, 1), np.int64)), protocols.Scored),
    ],
)
def test_each_implementation_has_its_protocols_members(obj, protocol):
    assert isinstance(obj, protocol)
    assert isinstance(obj, protocols.Stateful) == hasattr(type(obj), "from_state")


def test_the_scoring_model_protocol_names_what_online_model_offers():
    members = ["version", "dim", "asset_calibration", "score", "close"]  # and ``calibration``, set in __init__
    assert [m for m in members if not hasattr(OnlineModel, m)] == []
    assert not isinstance(object(), protocols.ScoringModel)
