"""The daemon's decision state and its checkpoint: thresholds, persistence, episodes and the offsets they reflect,
restored at start and saved around ``daemon.checkpoint`` (the file format; why a crash does not change the
decisions is in its docstring).

A checkpoint is used only when it was saved under the same decision settings (``threshold_key``: the ``threshold``
section less where and how often the state is saved), else the state starts fresh from the model's calibration.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import structlog
from kafka.structs import TopicPartition

from daemon import checkpoint
from daemon.factories import StateFactories
from daemon.steps.commit import Offsets
from pipelines.protocols import Decisions, Episodes, ScoringModel, Thresholds
from pipelines.threshold.bank import OWN, SHARED

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
    # (topic, partition) -> the newest window time (epoch ms) seen there: the episode sweep's watermark
    # (daemon/steps/alert_policy.py), saved with the episodes so a restart sweeps as the uninterrupted run does
    watermarks: dict[tuple[str, int], int] = dataclasses.field(default_factory=dict)
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
        own = model.asset_calibration or {}
        bank = make.bank_from_state(state["thresholds"], own or None)
        if state.get("artifact_version") != model.version:
            # saved under another version: the swap policy (``rebase``), judged from what the checkpoint recorded;
            # every asset with an own normal in this version restarts (whether it changed is not recorded)
            shared_changed = state.get("calibration_sha256") != calibration_sha256(model.calibration)
            bank = _restarted(
                bank, make, cfg.threshold, model, shared_changed, lambda a: a in own, own or None, "checkpoint"
            )
        restored = cls(
            bank,
            make.persistence_from_state(state["persistence"])
            if state.get("persistence")
            else make.persistence(cfg.threshold),
            make.tracker_from_state(state["episodes"]),
            _offsets(state.get("committed", {})),
            {(tp.topic, tp.partition): ts for tp, ts in _offsets(state.get("watermarks", {})).items()},
            str(state.get("lineage") or uuid.uuid4().hex),
        )
        log.info(
            "checkpoint_restored", path=str(path), assets=len(restored.bank.assets), saved_at=state.get("saved_at")
        )
        return restored

    def save(self, cfg: Config, model: ScoringModel) -> None:
        """Spill the assets idle since the last checkpoint to packed arrays, then write the state atomically, with
        the version and the digest of the shared calibration it was decided under (``restore`` compares them)."""
        self.bank.spill()
        checkpoint.save(
            cfg.threshold.checkpoint_path,
            {
                "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "artifact_version": model.version,
                "calibration_sha256": calibration_sha256(model.calibration),
                "threshold_config": threshold_key(cfg.threshold),
                "lineage": self.lineage,
                "committed": {f"{tp.topic}:{tp.partition}": o for tp, o in sorted(self.committed.items())},
                "watermarks": {f"{t}:{p}": ts for (t, p), ts in sorted(self.watermarks.items())},
                "thresholds": self.bank.compact_state(),
                "episodes": self.tracker.state(),
                "persistence": self.persistence.state(),
            },
        )

    def rebase(
        self, make: StateFactories, settings: ThresholdConfig, old: ScoringModel | None, new: ScoringModel
    ) -> None:
        """The swap policy: a detector restarts exactly when the calibration it started from changed, since
        calibration scores are the distribution of the score under one reference, and a new reference (a refresh,
        ``latentwatch assets add``) makes its scores another distribution (denser neighbours: smaller distances).
        A threshold and peaks learnt on the old scale would misjudge the new one (missed faults or an alarm storm).
        So: an asset whose own calibration changed (added, removed or other scores) restarts from it; when the
        shared calibration changed (a refresh rebuilt the global reference), every asset on the shared fit
        restarts from the new one, and so do assets first seen afterwards; an asset on its own unchanged
        calibration keeps its state. Persistence and episodes carry over: they count decisions, not scores."""
        old_cal = (old.asset_calibration if old is not None else None) or {}
        new_cal = new.asset_calibration or {}
        shared_changed = old is None or not np.array_equal(old.calibration, new.calibration)
        if not shared_changed and not old_cal and not new_cal:
            return

        def own_changed(a: str) -> bool:
            return (a in new_cal) != (a in old_cal) or (a in new_cal and not np.array_equal(new_cal[a], old_cal[a]))

        self.bank = _restarted(self.bank, make, settings, new, shared_changed, own_changed, new_cal or None, "swap")


def calibration_sha256(scores: np.ndarray) -> str:
    """What a checkpoint records of the shared calibration it was decided under (its scores, as float64)."""
    return hashlib.sha256(np.ascontiguousarray(scores, dtype=np.float64).tobytes()).hexdigest()


def _restarted(
    bank: Thresholds,
    make: StateFactories,
    settings: ThresholdConfig,
    model: ScoringModel,
    shared_changed: bool,
    own_changed: Callable[[str], bool],
    asset_calibration: Mapping[str, np.ndarray] | None,
    why: str,
) -> Thresholds:
    """``bank`` less the detectors ``rebase`` restarts, with the new shared fit when the shared calibration
    changed; the others keep their state exactly. Unchanged: the same bank object. Works on the compact state, so
    the spilled detectors that restart are dropped without being unpacked (100k of them: 4.9 s through ``state``)
    and the kept ones stay packed (they hold their own calibration peaks, not the shared fit's)."""
    state = bank.compact_state()
    sources = state.get("sources", {})  # only the assets not on the shared fit

    def stale(a: str) -> bool:
        return own_changed(a) or (shared_changed and sources.get(a, SHARED) != OWN)

    live = [a for a in state["assets"] if stale(a)]
    packed = state.get("packed") or {"names": [], "offsets": [0], "data": np.empty(0)}
    keep = [i for i, a in enumerate(packed["names"]) if not stale(a)]
    restarted = len(live) + len(packed["names"]) - len(keep)
    if not restarted and not shared_changed:
        return bank
    for a in live:
        del state["assets"][a]
    bounds, data = np.asarray(packed["offsets"], np.int64).tolist(), np.asarray(packed["data"], np.float64)
    kept = [data[bounds[i] : bounds[i + 1]] for i in keep]
    offsets = np.zeros(len(kept) + 1, dtype=np.int64)
    np.cumsum([x.size for x in kept], out=offsets[1:])
    state["packed"] = {
        "names": [packed["names"][i] for i in keep],
        "offsets": offsets,
        "data": np.concatenate(kept) if kept else np.empty(0),
    }
    state["sources"] = {a: src for a, src in sources.items() if not stale(a)}
    if shared_changed:
        state["calibration"] = make.bank(settings, model.calibration, None).state()["calibration"]
    log.info(
        "thresholds_restarted_for_new_calibration",
        why=why,
        assets=restarted,
        kept=len(state["assets"]) + len(keep),
        shared_calibration_changed=shared_changed,
        version=model.version,
    )
    return make.bank_from_state(state, asset_calibration)
