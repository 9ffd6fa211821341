"""The demo's live view: the alerts as the daemon publishes them and a progress line (windows sent, scored,
committed), while the replay runs and the demo waits for the commits.

On a terminal the view is a block at the bottom of the screen, redrawn in place (at most ``FPS`` times a second):
the last ``rows`` alerts as a table, then the progress line; the demo's own messages print above it. Elsewhere (a
pipe, a CI log) each alert is one plain line as it arrives and the progress is a line every ``PLAIN_PROGRESS_S``.
The alerts come from the alert topic, read without a consumer group (nothing is committed, the daemon's group is
untouched); the progress from the replay's counter and the daemon's /metrics (committed = consumed - in flight)."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

FPS = 4.0
PLAIN_PROGRESS_S = 10.0
COLUMNS = (("asset", 22), ("time", 19), ("score vs threshold", 22), ("event", 6), ("alarms", 6), ("top sensors", 0))


@dataclass
class Progress:
    total: int = 0
    sent: int = 0
    scored: int = 0
    dead_lettered: int = 0
    committed: int = 0
    alerts: int = 0

    def line(self) -> str:
        of = f" of {self.total}" if self.total else ""
        pct = f" ({100 * self.committed / self.total:.0f}%)" if self.total else ""
        return (
            f"progress: sent {self.sent}{of}, scored {self.scored} (+{self.dead_lettered} dead-lettered), "
            f"committed {self.committed}{pct}, alerts {self.alerts}"
        )


def _sensors(a: dict[str, Any]) -> str:
    return ", ".join(f"{s['sensor']} {100 * float(s.get('share', 0)):.0f}%" for s in a.get("sensors") or ()) or "-"


def _score(a: dict[str, Any]) -> str:
    th = (a.get("threshold") or {}).get("value")
    if th is None:
        return f"{float(a['score']):.3g}"
    return f"{float(a['score']):.3g} {'>' if float(a['score']) > float(th) else '<='} {float(th):.3g}"


def cells(a: dict[str, Any]) -> tuple[str, ...]:
    """One alert's table cells, in COLUMNS order."""
    ep = a.get("episode") or {}
    when = str(a.get("ts", "")).replace("T", " ")[:19]
    return (str(a["asset"]), when, _score(a), str(ep.get("event", "")), str(ep.get("n_alarms", "")), _sensors(a))


def plain_line(a: dict[str, Any]) -> str:
    """One alert as a line of its own (the non-terminal view)."""
    asset, when, score, event, alarms, sensors = cells(a)
    return f"alert: {event:<6} {asset} at {when} score {score} alarms {alarms} sensors {sensors}"


def _fit(text: str, width: int) -> str:
    return text if width <= 0 or len(text) <= width else text[: max(0, width - 1)] + "~"


def table(alerts: list[dict[str, Any]], total: int, width: int) -> list[str]:
    """The last alerts as fixed-width rows under a header, each cut to ``width``."""
    head = "  ".join(name.ljust(w) if w else name for name, w in COLUMNS)
    lines = [_fit(f"live alerts: {total} so far" + (f", the last {len(alerts)}" if total > len(alerts) else ""), width)]
    lines.append(_fit(head, width))
    for a in alerts:
        row = "  ".join(c[:w].ljust(w) if w else c for c, (_, w) in zip(cells(a), COLUMNS, strict=True))
        lines.append(_fit(row, width))
    return lines


class LiveView:
    """What the terminal shows; thread-safe (the follower thread feeds it, the demo prints through ``message``)."""

    def __init__(self, out: TextIO, tty: bool, rows: int = 10, clock: Callable[[], float] = time.monotonic) -> None:
        self.out, self.tty, self.progress = out, tty, Progress()
        self._recent: deque[dict[str, Any]] = deque(maxlen=rows)
        self._lock = threading.Lock()
        self._drawn = 0
        self._clock = clock
        self._next_draw = self._next_plain = 0.0

    def alert(self, a: dict[str, Any]) -> None:
        with self._lock:
            self.progress.alerts += 1
            self._recent.append(a)
            if not self.tty:
                self.out.write(plain_line(a) + "\n")
                self.out.flush()
        self.refresh()

    def update(self, **counts: int) -> None:
        with self._lock:
            for k, v in counts.items():
                setattr(self.progress, k, int(v))
        self.refresh()

    def message(self, line: str) -> None:
        """A line of the demo's own, printed above the live block."""
        with self._lock:
            self._erase()
            self.out.write(line + "\n")
            self._draw()

    def refresh(self, force: bool = False) -> None:
        with self._lock:
            t = self._clock()
            if self.tty and (force or t >= self._next_draw):
                self._erase()
                self._draw()
                self._next_draw = t + 1 / FPS
            elif not self.tty and (force or t >= self._next_plain):
                self.out.write(self.progress.line() + "\n")
                self.out.flush()
                self._next_plain = t + PLAIN_PROGRESS_S

    def close(self) -> None:
        """The final state stays on screen (a terminal) or is printed once more (plain)."""
        self.refresh(force=True)
        with self._lock:
            self._drawn = 0

    def _erase(self) -> None:
        if self.tty and self._drawn:
            self.out.write(f"\x1b[{self._drawn}F\x1b[J")  # to the block's first line, clear to the screen's end

    def _draw(self) -> None:
        if not self.tty:
            self.out.flush()
            return
        width = shutil.get_terminal_size((120, 24)).columns - 1
        lines = table(list(self._recent), self.progress.alerts, width) + [_fit(self.progress.line(), width)]
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()
        self._drawn = len(lines)


class Follower(threading.Thread):
    """Feeds a LiveView: polls the alert topic from ``start`` (partition -> offset) and the daemon's /metrics."""

    def __init__(
        self,
        view: LiveView,
        bootstrap: str,
        security: dict[str, Any],
        topic: str,
        start: dict[int, int],
        metrics: Callable[[], dict[str, float]],
        input_topic: str | None = None,
    ) -> None:
        super().__init__(name="demo-live-view", daemon=True)
        self.view, self.metrics, self.input_topic = view, metrics, input_topic
        self._args = (bootstrap, security, topic, start)
        self._stopping = threading.Event()
        self._until: dict[int, int] = {}
        self._next_metrics = 0.0
        self.error: str | None = None

    def run(self) -> None:
        import orjson
        from kafka import KafkaConsumer, TopicPartition

        bootstrap, security, topic, start = self._args
        try:
            consumer = KafkaConsumer(bootstrap_servers=[bootstrap], group_id=None, enable_auto_commit=False, **security)
        except Exception as e:  # the view is a convenience: the demo's checks never depend on it
            self.error = f"live view: no alert consumer ({type(e).__name__}: {e})"
            return
        try:
            parts = [TopicPartition(topic, p) for p in sorted(start)]
            consumer.assign(parts)
            for tp in parts:
                consumer.seek(tp, start[tp.partition])
            deadline = None
            while True:
                if self._stopping.is_set():
                    deadline = deadline or time.monotonic() + 5.0
                    caught_up = all(consumer.position(tp) >= self._until.get(tp.partition, 0) for tp in parts)
                    if caught_up or time.monotonic() > deadline:
                        break
                for records in consumer.poll(timeout_ms=250).values():
                    for r in records:
                        a = orjson.loads(r.value)
                        if self.input_topic is None or (a.get("source") or {}).get("topic") in (None, self.input_topic):
                            self.view.alert(a)
                self._poll_metrics()
        except Exception as e:
            self.error = f"live view stopped ({type(e).__name__}: {e})"
        finally:
            consumer.close()

    def _poll_metrics(self) -> None:
        from latentwatch.daemon_process import metric_sum

        if time.monotonic() < self._next_metrics:
            return
        self._next_metrics = time.monotonic() + 1.0
        try:
            m = self.metrics()
        except Exception:
            return  # the daemon is starting or stopping: keep the last counts
        consumed = metric_sum(m, "latentwatch_windows_consumed")
        scored, dead = metric_sum(m, "latentwatch_windows_scored"), metric_sum(m, "latentwatch_dead_letters")
        # a window is committed only once scored or dead-lettered; the counters move at different moments of a batch
        committed = min(consumed - metric_sum(m, "latentwatch_in_flight_windows"), scored + dead)
        self.view.update(scored=int(scored), dead_lettered=int(dead), committed=int(committed))

    def stop(self, until: dict[int, int] | None = None, timeout_s: float = 10.0) -> None:
        """Stop once the alerts up to ``until`` (partition -> end offset) are shown, or after 5 s."""
        self._until = dict(until or {})
        self._stopping.set()
        self.join(timeout_s)
        self._next_metrics = 0.0
        self._poll_metrics()


def start_live(
    mode: str,
    cfg: Any,
    bootstrap: str,
    security: dict[str, Any],
    alert_start: dict[int, int],
    daemon: Any,
    windows: int,
) -> tuple[LiveView, Follower] | None:
    """The view (``mode``: auto = a table on a terminal, else lines; table; lines; off -> None) and the thread that
    feeds it, started; the demo's say() prints through it until ``close_live``."""
    if mode == "off":
        return None
    from latentwatch.demo import print_through
    from latentwatch.replay import BAD_KINDS, usable_bad_kinds

    tty = sys.stdout.isatty() if mode == "auto" else mode == "table"
    view = LiveView(sys.stdout, tty=tty)
    view.update(total=windows + len(usable_bad_kinds(BAD_KINDS, cfg.dead_letter.max_bytes)[0]))
    k = cfg.kafka
    follower = Follower(view, bootstrap, security, k.alert_topic, alert_start, daemon.metrics, k.input_topic)
    print_through(view.message)
    follower.start()
    return view, follower


def close_live(live: tuple[LiveView, Follower], alert_end: dict[int, int] | None) -> None:
    """Show the alerts up to ``alert_end``, leave the final table, and give say() back its plain print."""
    from latentwatch.demo import print_through, say

    view, follower = live
    follower.stop(until=alert_end)
    view.close()
    print_through(None)
    if follower.error:
        say(follower.error)
