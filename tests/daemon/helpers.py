"""Small in-test stand-ins for unit tests of pure logic (never for anything claiming Kafka behaviour)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from daemon.factories import StateFactories
from daemon.inmemory import Record
from pipelines.online import ScoredBatch

Rec = Record  # the fields of kafka's ConsumerRecord the daemon reads (daemon/inmemory.py)


def window(asset: str = "pump-1", ts: Any = 1_714_564_800_000, values: Any = None, dim: int = 4, **extra: Any) -> bytes:
    doc = {"schema": 1, "asset": asset, "ts": ts, "values": [0.5] * dim if values is None else values, **extra}
    return orjson.dumps(doc)


def recs(values: list[bytes | None], topic: str = "t", partition: int = 0, start: int = 0) -> list[Rec]:
    return [Rec(topic, partition, start + i, b"k", v) for i, v in enumerate(values)]


class StandInModel:
    """A ``pipelines.protocols.ScoringModel`` like OnlineModel: version, dim, calibration, no per-asset calibration,
    score(X, assets) -> ScoredBatch, close. Score = max |x|."""

    asset_calibration = None

    def __init__(self, dim: int = 4, version: str = "v-test", seed: int = 0) -> None:
        self.dim = dim
        self.version = version
        self.calibration = np.abs(np.random.default_rng(seed).normal(size=2000))
        self.calls = 0

    def score(self, X: np.ndarray, assets=None) -> ScoredBatch:
        if X.ndim != 2 or X.shape[1] != self.dim or not np.isfinite(X).all():
            raise ValueError("bad batch")
        self.calls += 1
        s = np.abs(X).max(axis=1).astype(np.float64)
        return ScoredBatch(
            score=s,
            components={"recon": s / 2, "density": s / 3},
            neighbours=np.tile(np.arange(3, dtype=np.int64), (len(X), 1)),
        )

    def close(self) -> None:
        self.closed = True


@dataclass
class StandInEvent:
    """A ``pipelines.protocols.Event``."""

    kind: str
    episode_id: str
    asset: str
    alarms: int

    def alert_fields(self) -> dict[str, Any]:
        return {"event": self.kind, "episode_id": self.episode_id, "n_alarms": self.alarms}


class StandInTracker:
    """A ``pipelines.protocols.Episodes`` like EpisodeTracker: open on the first alarm, update every
    ``update_every`` alarms, close after ``quiet_windows`` windows without one; ``sweep`` closes nothing."""

    def __init__(self, quiet_windows: int = 3, update_every: int = 2) -> None:
        self.quiet_windows, self.update_every = quiet_windows, update_every
        self.open: dict[str, dict[str, Any]] = {}

    def observe(self, asset: str, ts: float, alarm: bool, score: float, key: str) -> StandInEvent | None:
        ep = self.open.get(asset)
        if alarm:
            if ep is None:
                ep = self.open[asset] = {"id": f"ep-{key}", "alarms": 1, "quiet": 0}
                return StandInEvent("open", ep["id"], asset, 1)
            ep["alarms"] += 1
            ep["quiet"] = 0
            if ep["alarms"] % self.update_every == 0:
                return StandInEvent("update", ep["id"], asset, ep["alarms"])
            return None
        if ep is not None:
            ep["quiet"] += 1
            if ep["quiet"] >= self.quiet_windows:
                del self.open[asset]
                return StandInEvent("close", ep["id"], asset, ep["alarms"])
        return None

    def observe_batch(
        self, assets: Any, ts: Any, alarms: Any, scores: Any, keys: Any
    ) -> list[tuple[int, StandInEvent]]:
        events = [
            (i, self.observe(a, float(t), bool(x), float(s), k))
            for i, (a, t, x, s, k) in enumerate(zip(assets, ts, alarms, scores, keys, strict=True))
        ]
        return [(i, e) for i, e in events if e is not None]

    def sweep(self, now_ts: float) -> list[StandInEvent]:
        return []

    def state(self) -> dict[str, Any]:
        return {"quiet_windows": self.quiet_windows, "update_every": self.update_every, "open": self.open}

    @classmethod
    def from_state(cls, d: dict[str, Any]) -> StandInTracker:
        t = cls(d["quiet_windows"], d["update_every"])
        t.open = d["open"]
        return t


STAND_IN_TRACKER = StateFactories(
    tracker=lambda settings: StandInTracker(), tracker_from_state=StandInTracker.from_state
)  # the real bank and persistence


def checkpoint_as_format1(path: Any) -> dict:
    """A daemon checkpoint as the format-1 document (one JSON, a dict per asset) it would have been: for tests that
    read the thresholds or write an older checkpoint (``json.dumps`` of the result loads as format 1)."""
    from daemon import checkpoint
    from pipelines.threshold.bank import ThresholdBank

    state = checkpoint.load(path)
    assert state is not None, f"no checkpoint at {path}"
    return {**state, "format": 1, "thresholds": ThresholdBank.from_state(state["thresholds"]).state()}
