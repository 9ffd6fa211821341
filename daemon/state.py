"""The daemon's decision state and its checkpoint: thresholds, persistence, episodes and the offsets they reflect,
restored at start and saved around ``daemon.checkpoint`` (the file format; why a crash does not change the
decisions is in its docstring).

A checkpoint is used only when it was saved under the same decision settings (``threshold_key``: the ``threshold``
section less where and how often the state is saved), else the state starts fresh from the model's calibration.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from typing import TYPE_CHECKING, Any

import numpy as np
import structlog
from kafka.structs import TopicPartition

from daemon import checkpoint
from daemon.factories import StateFactories
from daemon.steps.commit import Offsets
from pipelines.protocols import Decisions, Episodes, ScoringModel, Thresholds

if TYPE_CHECKING:
    from daemon.config import Config, ThresholdConfig

log = structlog.get_logger("daemon")

# threshold settings that say where and how often the state is saved, or when an idle asset restarts, not how a
# window is decided: a checkpoint saved under other values of these still loads
NOT_IN_KEY = frozenset({"checkpoint_path", "checkpoint_interval_s", "idle_expiry_s"})


def threshold_key(settings: ThresholdConfig) -> dict[str, Any]:
    """The decision settings a checkpoint was saved under (compared at restore, after ``upgrade_threshold_key``)."""
    return {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings) if f.name not in NOT_IN_KEY}


def _offsets(raw: dict[str, Any]) -> Offsets:
    out: Offsets = {}
    for key, offset in raw.items():
        topic, _, partition = str(key).rpartition(":")
        out[TopicPartition(topic, int(partition))] = int(offset)
    return out


@dataclasses.dataclass
class DecisionState:
    """What decides (bank, persistence, episodes) and ``committed``: per partition, the offset below which this
    state has seen every window. ``lineage`` names this state in the metadata of every commit it makes."""

    bank: Thresholds
    persistence: Decisions
    tracker: Episodes
    committed: Offsets = dataclasses.field(default_factory=dict)
    lineage: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def fresh(cls, cfg: Config, model: ScoringModel, make: StateFactories) -> DecisionState:
        return cls(
            make.bank(cfg.threshold, model.calibration, model.asset_calibration),
            make.persistence(cfg.threshold),
            make.tracker(cfg.episodes),
        )

    @classmethod
    def restore(cls, cfg: Config, model: ScoringModel, make: StateFactories) -> DecisionState:
        """From the checkpoint when it is readable and was saved under today's decision settings, else fresh."""
        path = cfg.threshold.checkpoint_path
        try:
            state = checkpoint.load(path)
        except ValueError as e:
            log.error("checkpoint_unreadable_starting_fresh", path=str(path), error=str(e))
            state = None
        if state is None:
            return cls.fresh(cfg, model, make)
        saved = state.get("threshold_config")
        if isinstance(saved, dict):
            saved = checkpoint.upgrade_threshold_key(saved)
        if saved != threshold_key(cfg.threshold):
            log.warning(
                "checkpoint_ignored_threshold_config_changed",
                path=str(path),
                saved=state.get("threshold_config"),
                now=threshold_key(cfg.threshold),
            )
            return cls.fresh(cfg, model, make)
        thresholds = state["thresholds"]
        own = model.asset_calibration or {}
        if own and state.get("artifact_version") != model.version:
            # saved under another version: assets with their own normal now restart from it (their scores come
            # from that reference); the rest keep their state
            thresholds = {
                **thresholds,
                "assets": {a: s for a, s in thresholds.get("assets", {}).items() if a not in own},
            }
        restored = cls(
            make.bank_from_state(thresholds, own or None),
            make.persistence_from_state(state["persistence"])
            if state.get("persistence")
            else make.persistence(cfg.threshold),
            make.tracker_from_state(state["episodes"]),
            _offsets(state.get("committed", {})),
            str(state.get("lineage") or uuid.uuid4().hex),
        )
        log.info(
            "checkpoint_restored", path=str(path), assets=len(restored.bank.assets), saved_at=state.get("saved_at")
        )
        return restored

    def save(self, cfg: Config, artifact_version: str) -> None:
        """Spill the assets idle since the last checkpoint to packed arrays, then write the state atomically."""
        self.bank.spill()
        checkpoint.save(
            cfg.threshold.checkpoint_path,
            {
                "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "artifact_version": artifact_version,
                "threshold_config": threshold_key(cfg.threshold),
                "lineage": self.lineage,
                "committed": {f"{tp.topic}:{tp.partition}": o for tp, o in sorted(self.committed.items())},
                "thresholds": self.bank.compact_state(),
                "episodes": self.tracker.state(),
                "persistence": self.persistence.state(),
            },
        )

    def rebase(self, make: StateFactories, old: ScoringModel | None, new: ScoringModel) -> None:
        """A new version can bring per-asset calibration (``latentwatch assets add``, a refresh): the assets whose
        own calibration changed restart from it (their scores now come from another reference); every other asset
        keeps its threshold state, and assets not seen yet start from the new version's."""
        old_cal = (old.asset_calibration if old is not None else None) or {}
        new_cal = new.asset_calibration or {}
        if not old_cal and not new_cal:
            return
        state = self.bank.state()
        stale = [
            a
            for a in state.get("assets", {})
            if (a in new_cal) != (a in old_cal) or (a in new_cal and not np.array_equal(new_cal[a], old_cal[a]))
        ]
        for a in stale:
            state["assets"].pop(a, None)
            state.get("sources", {}).pop(a, None)
        if stale:
            log.info("thresholds_restarted_for_new_asset_normals", assets=len(stale), version=new.version)
        self.bank = make.bank_from_state(state, new_cal)
