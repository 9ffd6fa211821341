"""Group alarms into episodes and build the alert messages.

The policy: every window goes through the asset's ``EpisodeTracker`` (alarm or not, so it can count quiet windows);
each event it emits (``open`` on the first alarm, ``update`` every ``update_every`` alarms inside an episode,
``close`` after the quiet period) becomes one alert. Alarmed windows that the tracker folds into an open episode
without an event are counted (metrics, the episode's own counters) but not published, so a long incident is a
handful of messages, not thousands.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import structlog

from daemon.alerts import build_alert
from daemon.batch import Batch
from daemon.chain import PassStep, Step

log = structlog.get_logger("daemon.alerts")


def event_fields(event: Any) -> dict[str, Any]:
    """The episode part of an alert: every field of the tracker's event, with ``kind`` named ``event``."""
    fields = dataclasses.asdict(event) if dataclasses.is_dataclass(event) else dict(vars(event))
    fields["event"] = fields.pop("kind")
    fields.pop("asset", None)
    return fields


class AlertPolicyStep(PassStep):
    def __init__(self, tracker: Callable[[], Any], bank: Callable[[], Any], next_step: Step) -> None:
        self.tracker = tracker
        self.bank = bank
        self.next_step = next_step

    def submit(self, batch: Batch) -> None:
        if batch.scored is not None:
            self._alerts(batch)
        self.next_step.submit(batch)

    def _alerts(self, batch: Batch) -> None:
        w, scored = batch.windows, batch.scored
        tracker, bank = self.tracker(), self.bank()
        scores = scored.score.tolist()
        alarms = batch.alarms.tolist()
        ts = w.ts_ms.tolist()
        partitions, offsets = w.partition.tolist(), w.offset.tolist()
        for i, asset in enumerate(w.asset):
            key = f"{w.topic[i]}:{partitions[i]}:{offsets[i]}"
            event = tracker.observe(asset, ts[i] / 1000.0, alarms[i], scores[i], key)
            if event is None:
                continue
            det = bank.detector(asset)
            threshold = {"value": float(batch.thresholds[i]), "method": bank.method, "q": det.q,
                         "level": det.level, "n_peaks": det.n_peaks}
            if hasattr(det, "depth"):
                threshold["depth"] = det.depth
            episode = event_fields(event)
            value = build_alert(
                topic=w.topic[i], partition=partitions[i], offset=offsets[i], asset=asset, ts_ms=ts[i],
                score=scores[i], components={k: v[i] for k, v in scored.components.items()}, threshold=threshold,
                artifact_version=batch.model.version, neighbours=scored.neighbours[i].tolist(), episode=episode,
                meta=w.meta[i])
            batch.alerts.append((asset.encode(), value, episode["event"]))
            log.info("alert", asset=asset, kind=episode["event"], episode_id=episode.get("episode_id"),
                     partition=partitions[i], offset=offsets[i], score=scores[i])
