"""Group alarms into episodes (``pipelines.protocols.Episodes``: ``EpisodeTracker``) and build the alert messages.

The policy: every window goes through the tracker (alarm or not, so it can count quiet windows); each event it
emits becomes one alert: ``open`` on an asset's first alarm, ``update`` every ``update_every`` alarms inside the
episode, ``close`` after ``quiet_windows`` quiet windows, ``quiet_seconds`` without an alarm, or ``max_duration_s``.
Alarmed windows folded into an open episode without an event are counted (metrics, the episode's ``n_alarms``)
but not published, so a long incident is a handful of messages, not thousands.

An asset that stops sending would keep its episode open forever, so after each batch the tracker is swept with an
event-time watermark: the oldest of the newest window times seen on each partition. Using event time (never the
wall clock) keeps replays of old data right, and the minimum over partitions keeps a lagging partition from being
closed early by a faster one. The newest times per partition belong to the decision state (``DecisionState.
watermarks``) and are checkpointed with the episodes they close: a restart that first polled a partition ahead of
the others would otherwise take its time alone for the watermark and close the lagging partitions' episodes early
(measured in tests/e2e/test_kill9_same_decisions.py: after ten kills, 122 closes that the uninterrupted run sent
later, with more alarms).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import structlog

from daemon.batch import Batch
from daemon.chain import PassStep, Step
from daemon.wire.alert import build_alert, build_sweep_close
from pipelines.protocols import Episodes, Thresholds

log = structlog.get_logger("daemon.alerts")


class AlertPolicyStep(PassStep):
    def __init__(
        self,
        tracker: Callable[[], Episodes],
        bank: Callable[[], Thresholds],
        next_step: Step,
        watermarks: Callable[[], dict[tuple[str, int], int]] | None = None,
    ) -> None:
        """``watermarks``: the state's newest window time per (topic, partition); None: the step's own dict."""
        self.tracker = tracker
        self.bank = bank
        self.next_step = next_step
        own: dict[tuple[str, int], int] = {}
        self.watermarks = watermarks or (lambda: own)

    @property
    def latest_ts_ms(self) -> dict[tuple[str, int], int]:
        return self.watermarks()

    def reset_watermark(self, assigned: Collection[tuple[str, int]] = ()) -> None:
        """After a rebalance: forget the partitions this consumer no longer owns."""
        latest = self.latest_ts_ms
        for tp in [tp for tp in latest if tp not in assigned]:
            del latest[tp]

    def submit(self, batch: Batch) -> None:
        if batch.scored is not None:
            self._window_alerts(batch)
            self._sweep(batch)
        self.next_step.submit(batch)

    def _window_alerts(self, batch: Batch) -> None:
        w, scored, alarms, thresholds = batch.windows, batch.scored, batch.alarms, batch.thresholds
        assert w is not None and alarms is not None and thresholds is not None, "the threshold step ran first"
        bank = self.bank()
        ts, partitions, offsets = w.ts_ms.tolist(), w.partition.tolist(), w.offset.tolist()
        latest = self.latest_ts_ms
        for topic, partition, t in zip(w.topic, partitions, ts, strict=True):
            if t > latest.get((topic, partition), -1):
                latest[(topic, partition)] = t
        keys = [f"{topic}:{p}:{o}" for topic, p, o in zip(w.topic, partitions, offsets, strict=True)]
        events = self.tracker().observe_batch(w.asset, w.ts_ms / 1000.0, alarms, scored.score, keys)
        n_peaks = bank.last_n_peaks if batch.n_peaks is None else batch.n_peaks  # per window, whatever the batching
        for i, event in events:
            asset, score = w.asset[i], float(scored.score[i])
            threshold = {"value": float(thresholds[i]), **bank.describe(asset, int(n_peaks[i]))}
            episode = event.alert_fields()
            value = build_alert(
                topic=w.topic[i],
                partition=partitions[i],
                offset=offsets[i],
                asset=asset,
                ts_ms=ts[i],
                score=score,
                components={k: float(v[i]) for k, v in scored.components.items()},
                threshold=threshold,
                artifact_version=batch.model.version,
                neighbours=scored.neighbours[i].tolist(),
                episode=episode,
                meta=w.meta[i],
                reference=scored.reference_of(i),
                sensors=scored.sensors_of(i),
            )
            batch.alerts.append((asset.encode(), value, episode["event"]))
            if episode["event"] != "update":  # opens and closes are rare; updates can come per window in a storm
                log.info(
                    "alert",
                    asset=asset,
                    kind=episode["event"],
                    episode_id=episode["episode_id"],
                    partition=partitions[i],
                    offset=offsets[i],
                    score=score,
                )

    def _sweep(self, batch: Batch) -> None:
        if not self.latest_ts_ms:
            return
        watermark_ms = min(self.latest_ts_ms.values())
        for event in self.tracker().sweep(watermark_ms / 1000.0):
            episode = event.alert_fields()
            batch.alerts.append(
                (
                    event.asset.encode(),
                    build_sweep_close(
                        asset=event.asset,
                        watermark_ms=watermark_ms,
                        artifact_version=batch.model.version,
                        episode=episode,
                    ),
                    "close",
                )
            )
            log.info(
                "alert",
                asset=event.asset,
                kind="close",
                episode_id=episode.get("episode_id"),
                watermark_ms=watermark_ms,
            )
