"""The daemon: wires the chain to Kafka and runs the loop, its lifecycle, reload, hot swap and checkpoints.

The loop, one turn: watchdog, reload if asked, swap the model if a new version is current (between batches: a
batch keeps the model it was decoded with), pause or resume for backpressure, poll at most what the batcher has room for, hand the records to the
chain, checkpoint if due. On SIGTERM/SIGINT it stops polling, pushes what it holds through the chain (flush alerts,
flush the producer, commit), checkpoints, closes the clients and returns 0, all within ``shutdown_timeout_s``.

Exit codes: 0 clean stop; 1 unexpected error, unfinished drain or no broker within kafka.connect_timeout_s; 2 no model
could be loaded or an output topic is missing; 3 the dead-letter guard tripped (what was processed is committed);
4 an alert or dead letter could not be delivered. systemd restarts 1 and 4, not 2 and 3 (a person must look).
"""
from __future__ import annotations

import gc
import threading
import time
import uuid
from collections import Counter
from typing import Any, Callable

import numpy as np
import structlog
from kafka.structs import OffsetAndMetadata, TopicPartition

from daemon import checkpoint
from daemon.dead_letter import DeadLetterGuard, DeadLetterLimitExceeded, dead_letter_headers, fit_record
from daemon.health import HealthServer
from daemon.kafka_clients import record_limit
from daemon.logs import configure as configure_logging
from daemon.metrics import Metrics
from daemon.model_holder import ModelHolder
from daemon.notify import Notifier
from daemon.reload import merge_live
from daemon.rebalance import Rebalance
from daemon.signals import Flags, install, restore
from daemon.startup import StopRequested, TopicMissing, check_topics, connect, output_record_limit
from daemon.steps.alert_policy import AlertPolicyStep
from daemon.steps.batcher import Batcher
from daemon.steps.commit import CommitStep, DeliveryFailed, Offsets
from daemon.steps.decode import DecodeStep
from daemon.steps.score import ScoreStep
from daemon.steps.sink import SinkStep
from daemon.steps.threshold import ThresholdStep
from daemon.threshold_guard import REQUEST_FILE, GuardReporter
from daemon.config import Config, ConfigError, load_config

log = structlog.get_logger("daemon")

# A rejoin among daemons that poll every <= 100 ms finishes within a few seconds; kafka-python 3's stalled rejoin
# (see _recover_stalled_rejoin) never does. 15 s (was 30) halves what a stall costs, still above the 10 s session
# timeout, after which a member that truly stopped would be gone from the group anyway.
REJOIN_STALL_S = 15.0
EXIT_OK, EXIT_ERROR, EXIT_NO_MODEL, EXIT_DEAD_LETTER_LIMIT, EXIT_DELIVERY = 0, 1, 2, 3, 4

def _parse_offsets(raw: dict[str, Any]) -> dict[tuple[str, int], int]:
    out = {}
    for key, offset in raw.items():
        topic, _, partition = str(key).rpartition(":")
        out[(topic, int(partition))] = int(offset)
    return out


def _default_bank(cfg: Config, calibration: Any, asset_calibration: Any = None) -> Any:
    from pipelines.threshold import ThresholdBank

    return ThresholdBank.from_settings(cfg.threshold, calibration, asset_calibration)


def _default_bank_from_state(state: dict[str, Any], asset_calibration: Any = None) -> Any:
    from pipelines.threshold import ThresholdBank

    return ThresholdBank.from_state(state, asset_calibration)


def _asset_calibration(model: Any) -> Any:
    """The model's per-asset calibration scores (a mapping), None when it has none (or is a stand-in)."""
    return getattr(model, "asset_calibration", None)


def _persistence(cfg: Config, state: dict[str, Any] | None = None) -> Any:
    """The decisions' persistence and hysteresis: restored from a checkpoint's state, else fresh from the config."""
    from pipelines.threshold.persistence import Persistence

    return Persistence.from_state(state) if state else Persistence.from_settings(cfg.threshold)


def _default_tracker(cfg: Config) -> Any:
    from pipelines.episodes.episodes import EpisodeTracker

    return EpisodeTracker.from_settings(cfg.episodes)


def _default_tracker_from_state(state: dict[str, Any]) -> Any:
    from pipelines.episodes.episodes import EpisodeTracker

    return EpisodeTracker.from_state(state)


def _default_clients(cfg: Config) -> tuple[Any, Any]:
    from daemon.kafka_clients import make_consumer, make_producer

    producer = make_producer(cfg.kafka)
    try:
        return make_consumer(cfg.kafka), producer
    except BaseException:
        producer.close(timeout=1)
        raise


class Daemon:
    def __init__(self, cfg: Config, *, flags: Flags | None = None, notifier: Notifier | None = None,
                 clients: Callable[[Config], tuple[Any, Any]] = _default_clients,
                 model_loader: Callable | None = None, resolver: Callable | None = None,
                 make_bank: Callable[[Config, Any, Any], Any] = _default_bank,
                 bank_from_state: Callable[[dict, Any], Any] = _default_bank_from_state,
                 make_tracker: Callable[[Config], Any] = _default_tracker,
                 tracker_from_state: Callable[[dict], Any] = _default_tracker_from_state) -> None:
        self.cfg = cfg
        self.flags = flags or Flags()
        self.notifier = notifier or Notifier.from_env()
        self.metrics = Metrics()
        self.guards = GuardReporter(self.metrics, cfg.threshold.checkpoint_path.parent / REQUEST_FILE)
        self._clients = clients
        self._make_bank, self._bank_from_state = make_bank, bank_from_state
        self._make_tracker, self._tracker_from_state = make_tracker, tracker_from_state
        holder_kw = {k: v for k, v in (("loader", model_loader), ("resolver", resolver)) if v is not None}
        self.model = ModelHolder(cfg.artifact.root, cfg.artifact.path, cfg.artifact.check_interval_s,
                                 on_swap=self._on_swap, **holder_kw)
        self.bank: Any = None
        self.persistence: Any = None
        self.tracker: Any = None
        self.consumer: Any = None
        self.producer: Any = None
        self.http: HealthServer | None = None
        self.assignment: set | None = None
        self.phase = "starting"
        self.last_poll = 0.0
        self.committed: Offsets = {}
        self.record_limit = record_limit(cfg.kafka)  # alerts and dead letters are cut to fit it
        self._unbased: set = set()  # assigned partitions whose start offset the checkpoint does not hold yet
        self._resume: dict = {}  # assigned partitions to put back where the state is (checked in _turn)
        self.lineage = uuid.uuid4().hex  # this state's identity, in the metadata of every commit it makes
        self._revoked_at: float | None = None
        self.paused = False
        self._ready_sent = False
        self._next_checkpoint = 0.0
        self.started = threading.Event()

    # -- wiring ---------------------------------------------------------------------------------------------------

    def _build_chain(self) -> None:
        cfg = self.cfg
        self.guard = DeadLetterGuard(cfg.dead_letter.window, cfg.dead_letter.max_ratio, cfg.dead_letter.max_consecutive)
        self.commit_step = CommitStep(self.producer, self._commit, on_committed=self._on_committed)
        sink = SinkStep(self.producer, cfg.kafka.alert_topic, self.commit_step, self.record_limit)
        self.policy = AlertPolicyStep(lambda: self.tracker, lambda: self.bank, sink)
        threshold = ThresholdStep(lambda: self.bank, self.policy, lambda: self.persistence,
                                  cfg.threshold.idle_expiry_s)
        score = ScoreStep(threshold)
        self.decode_step = DecodeStep(self.model, cfg.dead_letter.max_bytes, self._send_dead_letter, self.guard, score,
                                      on_dead_letter=lambda r: self.metrics.dead_letters.labels(reason=r).inc(),
                                      limits=cfg.input)
        self.batcher = Batcher(cfg.batching.max_records, cfg.batching.max_wait_ms, self.decode_step)

    def _send_dead_letter(self, record: Any, err: Any) -> Any:
        key, value, headers = fit_record(record.key, record.value, dead_letter_headers(record, err), self.record_limit)
        return self.producer.send(self.cfg.kafka.dead_letter_topic, value=value, key=key, headers=headers)

    def _commit(self, offsets: Offsets, timeout_s: float) -> None:
        self.consumer.commit({tp: OffsetAndMetadata(o, self.lineage, -1) for tp, o in offsets.items()},
                             timeout_ms=int(timeout_s * 1000))

    def _on_committed(self, batches: list, offsets: Offsets) -> None:
        now = time.monotonic()
        for b in batches:
            self.metrics.batch_latency.observe(now - b.started)
            n = len(b.windows) if b.windows is not None else 0
            self.metrics.scored.inc(n)
            if b.alarms is not None:
                self.metrics.alarms.inc(int(b.alarms.sum()))
            for event, count in Counter(event for _, _, event in b.alerts).items():  # one increment per kind
                self.metrics.alerts.labels(event=event).inc(count)
        self.metrics.commits.inc()
        self.committed.update(offsets)
        self.guards.report(self.bank)
        for tp, off in offsets.items():
            hw = self.consumer.highwater(tp)
            if hw is not None:
                self.metrics.lag.labels(topic=tp.topic, partition=str(tp.partition)).set(max(0, hw - off))

    def _on_swap(self, old: Any, new: Any) -> None:
        if new is None:
            self.metrics.model_swaps.labels(outcome="refused").inc()
            return
        self.metrics.model_swaps.labels(outcome="swapped").inc()
        self.metrics.artifact.info({"version": new.version, "dim": str(new.dim)})
        if self.bank is not None:
            self.bank = self._rebase_bank(old, new)
        if hasattr(old, "close"):  # batches are scored within one turn, so no batch still searches the old index
            old.close()

    def _rebase_bank(self, old: Any, new: Any) -> Any:
        """A new version can bring per-asset calibration (``latentwatch assets add``, a refresh): the assets whose own
        calibration changed restart from it (their scores now come from another reference); every other asset keeps
        its threshold state, and assets not seen yet start from the new version's."""
        old_cal, new_cal = _asset_calibration(old) or {}, _asset_calibration(new) or {}
        if not old_cal and not new_cal:
            return self.bank
        state = self.bank.state()
        stale = [a for a in state.get("assets", {})
                 if (a in new_cal) != (a in old_cal) or (a in new_cal and not np.array_equal(new_cal[a], old_cal[a]))]
        for a in stale:
            state["assets"].pop(a, None)
            state.get("sources", {}).pop(a, None)
        if stale:
            log.info("thresholds_restarted_for_new_asset_normals", assets=len(stale), version=new.version)
        return self._bank_from_state(state, new_cal)

    # -- state ----------------------------------------------------------------------------------------------------

    def _threshold_key(self) -> dict[str, Any]:
        t = self.cfg.threshold
        return {"method": t.method, "q": t.q, "level": t.level, "depth": t.depth, "refit_every": t.refit_every,
                "max_shape": t.max_shape, "max_peak_ratio": t.max_peak_ratio, "persist_m": t.persist_m,
                "persist_n": t.persist_n, "release_windows": t.release_windows}

    def _restore_state(self) -> None:
        path = self.cfg.threshold.checkpoint_path
        try:
            state = checkpoint.load(path)
        except ValueError as e:
            log.error("checkpoint_unreadable_starting_fresh", path=str(path), error=str(e))
            state = None
        saved = state.get("threshold_config") if state is not None else None
        if isinstance(saved, dict):
            saved = checkpoint.upgrade_threshold_key(saved)
        if state is not None and saved == self._threshold_key():
            thresholds = state["thresholds"]
            own = _asset_calibration(self.model.model) or {}
            if own and state.get("artifact_version") != self.model.model.version:
                # saved under another version: assets with their own normal now restart from it (their scores
                # come from that reference); the rest keep their state
                thresholds = {**thresholds, "assets": {a: s for a, s in thresholds.get("assets", {}).items()
                                                       if a not in own}}
            self.bank = self._bank_from_state(thresholds, own or None)
            self.tracker = self._tracker_from_state(state["episodes"])
            self.persistence = _persistence(self.cfg, state.get("persistence"))
            self.lineage = str(state.get("lineage") or self.lineage)
            self.committed = {TopicPartition(t, p): o
                              for (t, p), o in _parse_offsets(state.get("committed", {})).items()}
            log.info("checkpoint_restored", path=str(path), assets=len(self.bank.assets) if hasattr(self.bank, "assets")
                     else len(state["thresholds"].get("assets", {})),
                     saved_at=state.get("saved_at"))
            return
        if state is not None:
            log.warning("checkpoint_ignored_threshold_config_changed", path=str(path),
                        saved=state.get("threshold_config"), now=self._threshold_key())
        self.bank = self._make_bank(self.cfg, self.model.model.calibration, _asset_calibration(self.model.model))
        self.tracker = self._make_tracker(self.cfg)
        self.persistence = _persistence(self.cfg)

    def save_checkpoint(self) -> None:
        if hasattr(self.bank, "spill"):  # assets idle since the last checkpoint become packed arrays
            self.bank.spill()
        state = {"saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "artifact_version": self.model.model.version, "threshold_config": self._threshold_key(),
                 "lineage": self.lineage,
                 "committed": {f"{tp.topic}:{tp.partition}": o for tp, o in sorted(self.committed.items())},
                 "thresholds": self.bank.compact_state(), "episodes": self.tracker.state(),
                 "persistence": self.persistence.state()}
        checkpoint.save(self.cfg.threshold.checkpoint_path, state)
        self._next_checkpoint = time.monotonic() + self.cfg.threshold.checkpoint_interval_s

    # -- health, rebalance, reload --------------------------------------------------------------------------------

    def health(self) -> tuple[bool, str]:
        if self.phase != "consuming":
            return False, self.phase
        if self.assignment is None:
            return False, "waiting for a partition assignment"
        now = time.monotonic()
        stalled = now - self.last_poll
        if stalled > max(self.cfg.http.unhealthy_after_s, 3 * self.cfg.batching.max_wait_ms / 1000):
            return False, f"no poll for {stalled:.0f}s"
        waiting = self.commit_step.waiting_s(now)
        if waiting > self.cfg.http.unhealthy_after_s:
            return False, (f"{self.commit_step.in_flight()} windows waiting {waiting:.0f}s to be committed: "
                           f"{self.commit_step.last_failure or 'flushing'}")
        return True, f"consuming {len(self.assignment)} partition(s)" + self.guards.health_note()

    def _on_assigned(self, assigned: set) -> None:
        """The state has seen exactly the windows below ``self.committed`` (restored from the checkpoint, then moved
        by each commit), while the group's offsets may be further on (a kill -9 after a commit, before the next
        checkpoint) or a rebalance reset the position: seek every assigned partition the state knows back there, so
        state and position agree (those windows are scored again and their alerts repeat, same ids, same content).
        A partition the state does not know yet is based in ``_base_new_partitions`` on the loop's thread."""
        self.committed = {tp: o for tp, o in self.committed.items() if tp in assigned}
        self._resume = dict(self.committed)
        self._unbased = set(assigned) - self.committed.keys()
        self._revoked_at = None
        self.assignment = assigned
        self.paused = False
        self.policy.reset_watermark()

    def _resume_where_the_state_is(self, records: dict) -> None:
        """Seek each partition the state knows back to its offset, and drop what was polled from the group's
        position, when the group's offset is this state's own commit (its lineage in the metadata) or equals it. A
        commit by another daemon (the partition moved while this state was away) means the state is stale there:
        the partition continues from the group's offset, based afresh (at-least-once, as any rebalance)."""
        resume, self._resume = self._resume, {}
        for tp, offset in resume.items():
            group = self.consumer.committed(tp, metadata=True)
            if group is None or group.offset == offset or group.metadata == self.lineage:
                records.pop(tp, None)
                self.consumer.seek(tp, offset)
                log.info("resumed_from_checkpoint", partition=f"{tp.topic}:{tp.partition}", offset=offset,
                         group=None if group is None else group.offset)
            else:
                log.warning("checkpoint_stale_for_partition", partition=f"{tp.topic}:{tp.partition}",
                            checkpoint=offset, group=group.offset)
                self.committed.pop(tp, None)
                self._unbased.add(tp)

    def _base_new_partitions(self, records: dict) -> None:
        """Newly assigned partitions the state has seen nothing of: the offset it starts from there (the first record
        polled, else the consumer's position) goes into a checkpoint before any of their windows is processed, so
        a kill before the next periodic checkpoint restarts from there (not from the group's later commit) and from
        the state that saw none of them."""
        if self.commit_step.pending and not self.commit_step.join(self.cfg.shutdown_timeout_s):  # none: revoke drained
            log.warning("checkpoint_ahead_of_commits", in_flight=self.commit_step.in_flight())
        for tp in self._unbased:
            recs = records.get(tp)
            self.committed[tp] = recs[0].offset if recs else self.consumer.position(tp)
        self._unbased = set()
        self.save_checkpoint()

    def _drain_for_revoke(self) -> Offsets | None:
        """On the consumer's IO thread, while the loop waits in poll: finish everything in flight, without commit."""
        self.assignment = None
        self._revoked_at = time.monotonic()
        self.commit_step.defer = True
        try:
            self.batcher.emit_all()
        finally:
            self.commit_step.defer = False
        return self.commit_step.take_flushed(min(10.0, self.cfg.shutdown_timeout_s))

    def _discard(self, partitions: Any) -> int:
        return self.batcher.discard(partitions) + self.commit_step.drop()

    def reload(self) -> bool:
        """SIGHUP: read the config file again; apply what can change live, keep the rest, keep all on error."""
        self.notifier.reloading()
        try:
            new = load_config(self.cfg.source) if self.cfg.source else None
        except ConfigError as e:
            log.error("reload_rejected_keeping_old_config", error=str(e))
            self.notifier.ready()
            return False
        if new is None:
            self.notifier.ready()
            return False
        self.cfg, live, later = merge_live(self.cfg, new)
        self._apply_live()
        log.info("config_reloaded", applied=live, need_restart=later)
        self.notifier.ready()
        return True

    def _apply_live(self) -> None:
        c = self.cfg
        configure_logging(c.logging.level, c.logging.json)
        self.batcher.configure(c.batching.max_records, c.batching.max_wait_ms)
        self.guard.configure(c.dead_letter.window, c.dead_letter.max_ratio, c.dead_letter.max_consecutive)
        self.decode_step.max_bytes = c.dead_letter.max_bytes
        self.model.check_interval_s = c.artifact.check_interval_s
        if hasattr(self.tracker, "update_every"):
            self.tracker.update_every = c.episodes.update_every

    # -- the loop -------------------------------------------------------------------------------------------------

    def in_flight(self) -> int:
        return len(self.batcher) + self.commit_step.in_flight()

    def _backpressure(self) -> None:
        over = self.in_flight() >= self.cfg.batching.max_in_flight
        if over and not self.paused and self.assignment:
            self.consumer.pause(*self.assignment)
            self.paused = True
            log.warning("backpressure_paused", in_flight=self.in_flight(), partitions=len(self.assignment))
        elif not over and self.paused:
            self.consumer.resume(*self.consumer.paused())
            self.paused = False
            log.info("backpressure_resumed", in_flight=self.in_flight())
        self.metrics.paused.set(1 if self.paused else 0)
        self.metrics.in_flight.set(self.in_flight())

    def _turn(self) -> None:
        now = time.monotonic()
        self.notifier.watchdog(now)
        if self.flags.reload.is_set():
            self.flags.reload.clear()
            self.reload()
        self.model.maybe_swap()  # safe at any turn: each batch took its model at decode, held records are not decoded
        self._backpressure()
        room = 0 if self.paused else self.batcher.room()
        timeout = min(self.batcher.time_left_ms() if len(self.batcher) else 100, 100)
        if self._revoked_at is not None and time.monotonic() - self._revoked_at > REJOIN_STALL_S:
            self._recover_stalled_rejoin()
        records = self.consumer.poll(timeout_ms=timeout, max_records=max(1, room))
        self.last_poll = time.monotonic()
        if self._resume:
            self._resume_where_the_state_is(records)
        if self._unbased:
            self._base_new_partitions(records)
        n = 0
        for recs in records.values():
            self.batcher.add(recs)
            n += len(recs)
        if n:
            self.metrics.consumed.inc(n)
        self.batcher.poll()
        if self.assignment is not None and not self._ready_sent:
            self._ready_sent = True
            self.phase = "consuming"
            self.notifier.ready()
            log.info("ready", partitions=len(self.assignment))
        if not self.commit_step.pending and now >= self._next_checkpoint:
            self.save_checkpoint()

    def _start(self) -> None:
        configure_logging(self.cfg.logging.level, self.cfg.logging.json)
        self.model.load_initial()
        self.metrics.artifact.info({"version": self.model.model.version, "dim": str(self.model.model.dim)})
        self._restore_state()
        if self.cfg.http.enabled:  # before Kafka: while the broker is away /healthz says so (503 and why)
            h = self.cfg.http
            self.http = HealthServer(h.host, h.port, self.health, self.metrics.render, max_connections=h.max_connections,
                                     request_timeout_s=h.request_timeout_s).start()
            log.info("http_listening", host=self.cfg.http.host, port=self.http.port)
        self.consumer, self.producer = connect(lambda: self._clients(self.cfg), self.cfg.kafka,
                                               self._waiting_for_kafka, self.flags.stop.wait)
        check_topics(self.consumer, self.cfg.kafka)
        self.record_limit = output_record_limit(self.cfg.kafka, self.record_limit)
        self._build_chain()
        gc.collect()
        gc.freeze()  # what start-up allocated (torch, the model, the reference) is never garbage: keep the
        # collector from walking it again in every full collection, a pause of tens of ms on the loop
        # Metadata for the input topic before the first join: a group leader that joins without it assigns nothing
        # and may not notice the partitions later (seen with kafka-python 3 on a freshly created topic).
        partitions = self.consumer.partitions_for_topic(self.cfg.kafka.input_topic)
        if not partitions:
            log.warning("input_topic_not_found_yet", topic=self.cfg.kafka.input_topic)
        self._subscribe()
        self._next_checkpoint = time.monotonic() + self.cfg.threshold.checkpoint_interval_s
        self.phase = "joining"
        self.started.set()

    def _waiting_for_kafka(self, why: str) -> None:
        self.phase = why
        self.notifier.watchdog(time.monotonic())
        log.warning("kafka_unavailable_retrying", reason=why)

    def _subscribe(self) -> None:
        self.rebalance = Rebalance(self.consumer, self._drain_for_revoke, self._discard, self._on_assigned)
        self.consumer.subscribe([self.cfg.kafka.input_topic], listener=self.rebalance)

    def _recover_stalled_rejoin(self) -> None:
        """kafka-python 3 can revoke (a metadata change right after the first join, under load) and then never
        finish the rejoin: no assignment, no records, no error. A fresh consumer joins again; everything up to the
        revoke was committed by the revoke drain, and anything after it is read again (at-least-once)."""
        stalled = time.monotonic() - (self._revoked_at or time.monotonic())
        log.error("group_rejoin_stalled_recreating_consumer", seconds=round(stalled, 1))
        self.metrics.consumer_recreated.inc()
        try:
            self.consumer.close(autocommit=False, timeout_ms=5000)
        except Exception as e:
            log.warning("stalled_consumer_close_failed", error=repr(e))
        consumer, spare_producer = self._clients(self.cfg)
        spare_producer.close(timeout=1)
        self.consumer = consumer
        self._revoked_at = time.monotonic()
        self._subscribe()

    def _commit_processed(self, code: int) -> int:
        """Before an exit that needs a person (the dead-letter guard): commit the batches that went through the chain
        and checkpoint the state that saw them, so a restart neither re-publishes their dead letters nor re-scores
        their windows. Records still in the batcher were never decoded and stay uncommitted."""
        try:
            if self.commit_step.join(min(10.0, self.cfg.shutdown_timeout_s)):
                self.save_checkpoint()
            else:
                log.error("commit_before_exit_timed_out", in_flight=self.commit_step.in_flight())
        except DeliveryFailed as e:
            log.critical("delivery_failed_stopping", error=str(e))
            return EXIT_DELIVERY
        except Exception:
            log.exception("commit_before_exit_failed")
        return code

    def _stop(self, clean: bool) -> bool:
        """Drain (when clean), checkpoint, close. True when everything in flight was committed."""
        self.phase = "stopping"
        self.notifier.stopping()
        deadline = time.monotonic() + self.cfg.shutdown_timeout_s
        left = lambda: max(0.1, deadline - time.monotonic())  # noqa: E731
        drained = False
        if clean and self.consumer is not None:
            try:
                drained = self.batcher.join(left())
                if drained:
                    self.save_checkpoint()
            except Exception:
                log.exception("drain_failed")
        if self.consumer is not None:
            try:
                self.consumer.close(autocommit=False, timeout_ms=int(left() * 1000))
            except Exception:
                log.exception("consumer_close_failed")
        if self.producer is not None:
            try:
                self.producer.close(timeout=left())
            except Exception:
                log.exception("producer_close_failed")
        if self.http is not None:
            self.http.stop()
        self.notifier.close()
        return drained

    def run(self) -> int:
        handlers = install(self.flags) if threading.current_thread() is threading.main_thread() else None
        try:
            return self._run()
        finally:
            if handlers is not None:
                restore(handlers)

    def _run(self) -> int:
        try:
            self._start()
        except StopRequested:
            self._stop(clean=False)
            return EXIT_OK
        except Exception as e:
            log.critical("start_failed", error=str(e), exc_info=not isinstance(e, TopicMissing))
            self._stop(clean=False)
            return EXIT_NO_MODEL if self.model.model is None or isinstance(e, TopicMissing) else EXIT_ERROR
        code = EXIT_OK
        try:
            while not self.flags.stop.is_set():
                self._turn()
        except DeadLetterLimitExceeded as e:
            log.critical("dead_letter_limit_exceeded_stopping", error=str(e),
                         hint="the input or the model is wrong; what was processed is committed, the rest waits")
            code = self._commit_processed(EXIT_DEAD_LETTER_LIMIT)
        except DeliveryFailed as e:
            log.critical("delivery_failed_stopping", error=str(e))
            code = EXIT_DELIVERY
        except Exception as e:
            log.critical("loop_failed_stopping", error=str(e), exc_info=True)
            code = EXIT_ERROR
        if code != EXIT_OK:
            self._stop(clean=False)
            return code
        log.info("stopping", signal=self.flags.signal_name, in_flight=self.in_flight())
        drained = self._stop(clean=True)
        log.info("stopped", drained=drained, committed={f"{tp.topic}:{tp.partition}": o
                                                         for tp, o in sorted(self.committed.items())})
        return EXIT_OK if drained else EXIT_ERROR
