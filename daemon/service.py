"""The daemon: wires the chain to Kafka and runs the loop, its lifecycle, reload, hot swap and checkpoints.

The loop, one turn: watchdog, reload if asked, swap the model if a new version has loaded (between batches: a batch
keeps the model it was decoded with), one turn of the consumer loop (``daemon.loop``: pause or resume for backpressure,
poll what the batcher has room for, hand the records to ``daemon.chain_factory``'s chain), checkpoint if due.
On SIGTERM/SIGINT it stops polling, pushes what it holds through the chain (flush alerts, flush the producer,
commit), checkpoints, closes the clients and returns 0, all within ``shutdown_timeout_s``.

Exit codes: 0 clean stop; 1 unexpected error, unfinished drain or no broker within kafka.connect_timeout_s; 2 no model
could be loaded or an output topic is missing; 3 the dead-letter guard tripped (what was processed is committed);
4 an alert or dead letter could not be delivered. systemd restarts 1 and 4, not 2 and 3 (a person must look).
"""

from __future__ import annotations

import gc
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import structlog
from kafka.structs import TopicPartition

from daemon.batch import Batch
from daemon.chain_factory import Chain, build_chain
from daemon.config import Config, ConfigError, load_config
from daemon.dead_letter import DeadLetterLimitExceeded
from daemon.drift_report import DriftReporter
from daemon.factories import StateFactories
from daemon.health import HealthServer
from daemon.kafka_clients import record_limit
from daemon.logs import configure as configure_logging
from daemon.loop import ConsumerLoop
from daemon.metrics import Metrics
from daemon.model_holder import ModelHolder
from daemon.notify import Notifier
from daemon.reload import merge_live
from daemon.signals import Flags, install, restore
from daemon.startup import StopRequested, TopicMissing, check_topics, connect, output_record_limit
from daemon.state import DecisionState
from daemon.steps.batcher import Batcher
from daemon.steps.commit import CommitStep, DeliveryFailed, Offsets
from daemon.threshold_guard import REQUEST_FILE, GuardReporter
from pipelines.protocols import Decisions, ScoringModel, Thresholds

log = structlog.get_logger("daemon")

EXIT_OK, EXIT_ERROR, EXIT_NO_MODEL, EXIT_DEAD_LETTER_LIMIT, EXIT_DELIVERY = 0, 1, 2, 3, 4


def _default_clients(cfg: Config) -> tuple[Any, Any]:
    from daemon.kafka_clients import make_consumer, make_producer

    producer = make_producer(cfg.kafka)
    try:
        return make_consumer(cfg.kafka), producer
    except BaseException:
        producer.close(timeout=1)
        raise


class Daemon:
    """The lifecycle around the loop (``daemon.loop``), the chain (``daemon.chain_factory``) and the decision state
    (``daemon.state``): start, reload, hot swap, health, checkpoints, stop. ``factories`` builds and restores the
    decision state (tests pass stand-ins that implement ``pipelines.protocols``)."""

    def __init__(
        self,
        cfg: Config,
        *,
        flags: Flags | None = None,
        notifier: Notifier | None = None,
        clients: Callable[[Config], tuple[Any, Any]] = _default_clients,
        model_loader: Callable[..., Any] | None = None,
        resolver: Callable[..., Any] | None = None,
        factories: StateFactories | None = None,
    ) -> None:
        self.cfg = cfg
        self.flags = flags or Flags()
        self.notifier = notifier or Notifier.from_env()
        self.metrics = Metrics()
        self.guards = GuardReporter(self.metrics, cfg.threshold.checkpoint_path.parent / REQUEST_FILE)
        self.drift = DriftReporter(cfg.drift, self.metrics, self.guards.request_path, cfg.source)
        self.factories = factories or StateFactories()
        self._clients = clients
        holder_kw: dict[str, Any] = {k: v for k, v in (("loader", model_loader), ("resolver", resolver)) if v}
        art = cfg.artifact  # a new version loads beside the loop (background); the swap is between batches
        self.model = ModelHolder(
            art.root, art.path, art.check_interval_s, on_swap=self._on_swap, background=True, **holder_kw
        )
        self.state: DecisionState | None = None
        self.loop: ConsumerLoop | None = None
        self.chain: Chain | None = None
        self.producer: Any = None
        self.http: HealthServer | None = None
        self.phase = "starting"
        self.record_limit = record_limit(cfg.kafka)  # alerts and dead letters are cut to fit it
        self._ready_sent = False
        self._next_checkpoint = 0.0
        self.started = threading.Event()

    # -- what tests and the health check read (the parts live in the loop, the chain and the state) -------------------

    @property
    def consumer(self) -> Any:
        return None if self.loop is None else self.loop.consumer

    @property
    def assignment(self) -> set[TopicPartition] | None:
        return None if self.loop is None else self.loop.assignment

    @property
    def committed(self) -> Offsets:
        return {} if self.state is None else self.state.committed

    @property
    def batcher(self) -> Batcher:
        return self._chain.batcher

    @property
    def commit_step(self) -> CommitStep:
        return self._chain.commit

    @property
    def bank(self) -> Thresholds:
        return self._state.bank

    @property
    def persistence(self) -> Decisions:
        return self._state.persistence

    @property
    def _state(self) -> DecisionState:
        assert self.state is not None, "the state is restored at start"
        return self.state

    @property
    def _chain(self) -> Chain:
        assert self.chain is not None, "the chain is built at start"
        return self.chain

    def in_flight(self) -> int:
        return 0 if self.chain is None else len(self.chain)

    # -- state ------------------------------------------------------------------------------------------------------

    def restore_state(self) -> None:
        self.state = DecisionState.restore(self.cfg, self.model.model, self.factories)

    def save_checkpoint(self) -> None:
        self._state.save(self.cfg, self.model.model)
        self._next_checkpoint = time.monotonic() + self.cfg.threshold.checkpoint_interval_s

    def _on_committed(self, batches: list[Batch], offsets: Offsets) -> None:
        now = time.monotonic()
        for b in batches:
            self.metrics.batch_latency.observe(now - b.started)
            self.metrics.scored.inc(len(b.windows) if b.windows is not None else 0)
            if b.alarms is not None:
                self.metrics.alarms.inc(int(b.alarms.sum()))
            for event, count in Counter(event for _, _, event in b.alerts).items():  # one increment per kind
                self.metrics.alerts.labels(event=event).inc(count)
        self.metrics.commits.inc()
        self._state.committed.update(offsets)
        self.guards.report(self._state.bank)
        self.drift.observe(batches)
        for tp, off in offsets.items():
            hw = self.consumer.highwater(tp)
            if hw is not None:
                self.metrics.lag.labels(topic=tp.topic, partition=str(tp.partition)).set(max(0, hw - off))

    def _on_swap(self, old: ScoringModel | None, new: ScoringModel | None) -> None:
        if new is None:
            self.metrics.model_swaps.labels(outcome="refused").inc()
            return
        self.metrics.model_swaps.labels(outcome="swapped").inc()
        self.metrics.artifact.info({"version": new.version, "dim": str(new.dim)})
        self.drift.reset()
        if self.state is not None:
            self.state.rebase(self.factories, self.cfg.threshold, old, new)
        if old is not None:  # batches are scored within one turn, so no batch still searches the old index
            old.close()

    # -- health, reload ---------------------------------------------------------------------------------------------

    def health(self) -> tuple[bool, str]:
        if self.phase != "consuming":
            return False, self.phase
        if self.loop is None or self.loop.assignment is None:
            return False, "waiting for a partition assignment"
        now = time.monotonic()
        stalled = now - self.loop.last_poll
        if stalled > max(self.cfg.http.unhealthy_after_s, 3 * self.cfg.batching.max_wait_ms / 1000):
            return False, f"no poll for {stalled:.0f}s"
        commit = self._chain.commit
        waiting = commit.waiting_s(now)
        if waiting > self.cfg.http.unhealthy_after_s:
            return False, (
                f"{commit.in_flight()} windows waiting {waiting:.0f}s to be committed: "
                f"{commit.last_failure or 'flushing'}"
            )
        return True, f"consuming {len(self.loop.assignment)} partition(s)" + self.guards.health_note()

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
        configure_logging(self.cfg.logging.level, self.cfg.logging.json)
        self._chain.configure(self.cfg)
        self.model.check_interval_s = self.cfg.artifact.check_interval_s
        self._state.tracker.update_every = self.cfg.episodes.update_every
        log.info("config_reloaded", applied=live, need_restart=later)
        self.notifier.ready()
        return True

    # -- the loop ---------------------------------------------------------------------------------------------------

    def _turn(self) -> None:
        """Watchdog, reload if asked, swap the model if a new version is current, one turn of the consumer loop,
        ready once assigned, checkpoint if due (only with nothing between the threshold step and its commit)."""
        now = time.monotonic()
        self.notifier.watchdog(now)
        if self.flags.reload.is_set():
            self.flags.reload.clear()
            self.reload()
        self.model.maybe_swap()  # safe at any turn: each batch took its model at decode, held records are not decoded
        loop = self.loop
        assert loop is not None
        loop.run_once()
        if loop.assignment is not None and not self._ready_sent:
            self._ready_sent = True
            self.phase = "consuming"
            self.notifier.ready()
            log.info("ready", partitions=len(loop.assignment))
        if not self._chain.commit.pending and now >= self._next_checkpoint:
            self.save_checkpoint()

    def _start(self) -> None:
        cfg = self.cfg
        configure_logging(cfg.logging.level, cfg.logging.json)
        self.model.load_initial()
        self.metrics.artifact.info({"version": self.model.model.version, "dim": str(self.model.model.dim)})
        self.restore_state()
        if cfg.http.enabled:  # before Kafka: while the broker is away /healthz says so (503 and why)
            h = cfg.http
            self.http = HealthServer(
                h.host,
                h.port,
                self.health,
                self.metrics.render,
                max_connections=h.max_connections,
                request_timeout_s=h.request_timeout_s,
            ).start()
            log.info("http_listening", host=h.host, port=self.http.port)
        consumer, self.producer = connect(
            lambda: self._clients(self.cfg), cfg.kafka, self._waiting_for_kafka, self.flags.stop.wait
        )
        self.loop = ConsumerLoop(
            lambda: self.cfg, consumer, self._state, self.metrics, self._new_consumer, self.save_checkpoint
        )
        check_topics(consumer, cfg.kafka)
        self.record_limit = output_record_limit(cfg.kafka, self.record_limit)
        self.chain = build_chain(
            cfg,
            self.producer,
            self.model,
            lambda: self._state,
            commit=self.loop.commit,
            on_committed=self._on_committed,
            record_limit=self.record_limit,
            on_dead_letter=lambda r: self.metrics.dead_letters.labels(reason=r).inc(),
        )
        gc.collect()
        gc.freeze()  # what start-up allocated (torch, the model, the reference) is never garbage: keep the
        # collector from walking it again in every full collection, a pause of tens of ms on the loop
        # Metadata for the input topic before the first join: a group leader that joins without it assigns nothing
        # and may not notice the partitions later (seen with kafka-python 3 on a freshly created topic).
        if not consumer.partitions_for_topic(cfg.kafka.input_topic):
            log.warning("input_topic_not_found_yet", topic=cfg.kafka.input_topic)
        self.loop.subscribe(self.chain)
        self._next_checkpoint = time.monotonic() + cfg.threshold.checkpoint_interval_s
        self.phase = "joining"
        self.started.set()

    def _waiting_for_kafka(self, why: str) -> None:
        self.phase = why
        self.notifier.watchdog(time.monotonic())
        log.warning("kafka_unavailable_retrying", reason=why)

    def _new_consumer(self) -> Any:
        consumer, spare_producer = self._clients(self.cfg)
        spare_producer.close(timeout=1)
        return consumer

    def _commit_processed(self, code: int) -> int:
        """Before an exit that needs a person (the dead-letter guard): commit the batches that went through the chain
        and checkpoint the state that saw them, so a restart neither re-publishes their dead letters nor re-scores
        their windows. Records still in the batcher were never decoded and stay uncommitted."""
        commit = self._chain.commit
        try:
            if commit.join(min(10.0, self.cfg.shutdown_timeout_s)):
                self.save_checkpoint()
            else:
                log.error("commit_before_exit_timed_out", in_flight=commit.in_flight())
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

        def left() -> float:
            return max(0.1, deadline - time.monotonic())

        drained = False
        if clean and self.chain is not None:
            try:
                drained = self.chain.join(left())
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
            log.critical(
                "dead_letter_limit_exceeded_stopping",
                error=str(e),
                hint="the input or the model is wrong; what was processed is committed, the rest waits",
            )
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
        log.info(
            "stopped",
            drained=drained,
            committed={f"{tp.topic}:{tp.partition}": o for tp, o in sorted(self.committed.items())},
        )
        return EXIT_OK if drained else EXIT_ERROR
