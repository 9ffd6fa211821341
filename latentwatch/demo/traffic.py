"""What the demo sends and waits for: the deliberately bad messages, the labelled runs, the commits that must reach
the end offsets, and the daemon's counters once they settle."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from latentwatch.demo import now, say

STALL_S = 120.0  # no commit progress for this long while behind: the daemon is stuck, say so


def send(
    cfg: Any,
    plan: Any,
    rate: float | None,
    security: dict[str, Any],
    on_sent: Callable[[int], None] | None = None,
) -> tuple[list[dict[str, Any]], Any, str]:
    """One message of each dead-letter class the config allows, then the plan's windows through the replay producer.
    Returns (the bad messages with where they landed, the replay's report, which bad kinds were left out and why).
    ``on_sent``: called with the messages sent so far, about every second (the live view's counter)."""
    from kafka import KafkaProducer

    from latentwatch.replay import BAD_KINDS, Window, bad_message, producer_settings, replay, usable_bad_kinds

    k = cfg.kafka
    kinds, note = usable_bad_kinds(BAD_KINDS, cfg.dead_letter.max_bytes)
    producer = KafkaProducer(**producer_settings(list(k.bootstrap_servers), security))
    try:
        bad_sent = []
        for i, kind in enumerate(kinds):
            st = plan.streams[i % len(plan.streams)]
            w = Window(st.asset, int(st.ts_ms[0]), st.X[0], int(st.y[0]), 0, 0)
            value = bad_message(kind, w, plan.source, cfg.dead_letter.max_bytes + 1)
            md = producer.send(k.input_topic, key=st.asset.encode(), value=value).get(timeout=60)
            bad_sent.append({"kind": kind, "asset": st.asset, "partition": md.partition, "offset": md.offset})
        say(
            f"replay: sent {len(bad_sent)} deliberately bad messages ({', '.join(kinds)})"
            + (f"; {note}" if note else "")
        )
        what = "SKAB runs" if plan.source == "skab" else f"{plan.source} assets"
        say(
            f"replay: {len(plan)} windows of {len(plan.streams)} {what} -> {k.input_topic} "
            f"({'as fast as possible' if rate is None else f'{rate:g}/s'})"
        )
        next_say = [now() + 10.0]

        def progress(r: Any) -> None:
            if on_sent is not None:
                on_sent(len(bad_sent) + r.messages)
            if now() >= next_say[0]:
                say(f"replay: {r.messages} sent, {r.acked} acked, {r.rate:.0f}/s")
                next_say[0] += 10.0

        report = replay(producer, k.input_topic, plan, rate=rate, progress=progress, progress_every_s=1.0)
        if on_sent is not None:
            on_sent(len(bad_sent) + report.messages)
    finally:
        producer.close(timeout=30)
    if report.errors:
        raise RuntimeError(f"the replay could not deliver {report.errors} messages: {report.first_error}")
    say(f"replay: {report.windows} windows acknowledged in {report.seconds:.1f} s ({report.rate:.0f}/s)")
    return bad_sent, report, note


def wait_committed(
    daemon: Any,
    k: Any,
    bootstrap: str,
    security: dict[str, Any],
    start: dict[int, int],
    end: dict[int, int],
    timeout_s: float,
) -> dict[int, int]:
    """Poll the group's committed offsets until they reach ``end`` on every partition; returns the last ones seen.
    Fails when the daemon dies, stalls for STALL_S, or ``timeout_s`` passes."""
    from latentwatch.kafka.admin import admin_client, committed

    total = int(sum(end.values())) - int(sum(start.values()))
    t_wait, next_note = now(), now() + 10
    last_done, last_progress = -1, now()
    with admin_client(bootstrap, security) as admin:
        while True:
            daemon.check_alive()
            now_c = committed(bootstrap, k.group_id, k.input_topic, admin=admin)
            done = sum(min(now_c.get(p, 0), e) - start.get(p, 0) for p, e in end.items())
            if all(now_c.get(p, 0) >= e for p, e in end.items() if e > 0):
                return now_c
            if done != last_done:
                last_done, last_progress = done, now()
            elif now() - last_progress > STALL_S:
                raise TimeoutError(
                    f"the daemon stalled: {done} of {total} messages committed and no progress "
                    f"for {STALL_S:.0f}s (/healthz: {daemon.health()}); its log: {daemon.log}"
                )
            if now() - t_wait > timeout_s:
                raise TimeoutError(
                    f"the daemon committed {done} of {total} messages within --timeout "
                    f"{timeout_s:.0f}s; its log: {daemon.log}"
                )
            if now() >= next_note:
                say(f"waiting: {done} of {total} committed")
                next_note += 10
            time.sleep(0.25)


def settled_metrics(daemon: Any, total: int, wait_s: float = 15.0) -> dict[str, Any]:
    """The daemon's /metrics once consumed = scored + dead-lettered >= ``total`` (the counters move right after the
    commit), or after ``wait_s``."""
    from latentwatch.daemon_process import metric_sum

    deadline = now() + wait_s
    while True:
        m = daemon.metrics()
        consumed = metric_sum(m, "latentwatch_windows_consumed")
        scored = metric_sum(m, "latentwatch_windows_scored")
        dead = metric_sum(m, "latentwatch_dead_letters")
        if consumed == scored + dead and consumed >= total or now() > deadline:
            return m
        time.sleep(0.2)
