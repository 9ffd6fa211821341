"""The demo's live view: one plain line per alert off a terminal, a table redrawn in place on one (a real pty)."""

from __future__ import annotations

import io
import os
import re
import threading

from latentwatch.demo.live import LiveView, plain_line, table


def _alert(i: int, event: str = "open", score: float = 12.5, sensors=None) -> dict:
    return {
        "asset": f"synthetic/pump-{i}",
        "ts": "2026-01-02T05:14:00.000Z",
        "ts_ms": 1767330840000,
        "score": score,
        "threshold": {"value": 8.25, "method": "spot"},
        "sensors": sensors
        if sensors is not None
        else [{"sensor": "motor_temp", "share": 0.62}, {"sensor": "flow", "share": 0.2}],
        "episode": {"event": event, "episode_id": f"e{i}", "n_alarms": 5},
    }


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_an_alert_as_a_plain_line_names_asset_time_score_threshold_event_and_sensors():
    assert plain_line(_alert(2)) == (
        "alert: open   synthetic/pump-2 at 2026-01-02 05:14:00 score 12.5 > 8.25 alarms 5 "
        "sensors motor_temp 62%, flow 20%"
    )
    close = _alert(3, event="close", score=1.0, sensors=[])
    assert (
        plain_line(close) == "alert: close  synthetic/pump-3 at 2026-01-02 05:14:00 score 1 <= 8.25 alarms 5 sensors -"
    )


def test_off_a_terminal_every_alert_is_a_line_and_progress_a_line_every_ten_seconds():
    out, clock = io.StringIO(), Clock()
    view = LiveView(out, tty=False, clock=clock)
    view.update(total=100, sent=10)
    view.alert(_alert(1))
    clock.t = 3.0
    view.update(scored=8, committed=5)  # throttled: within 10 s of the last progress line
    clock.t = 11.0
    view.update(sent=100, scored=90, committed=80)
    view.close()
    lines = out.getvalue().splitlines()
    assert lines == [
        "progress: sent 10 of 100, scored 0 (+0 dead-lettered), committed 0 (0%), alerts 0",
        plain_line(_alert(1)),
        "progress: sent 100 of 100, scored 90 (+0 dead-lettered), committed 80 (80%), alerts 1",
        "progress: sent 100 of 100, scored 90 (+0 dead-lettered), committed 80 (80%), alerts 1",
    ]
    assert "\x1b" not in out.getvalue()


def test_the_table_keeps_the_last_rows_and_cuts_lines_to_the_width():
    alerts = [_alert(i) for i in range(3)]
    lines = table(alerts, total=7, width=60)
    assert lines[0] == "live alerts: 7 so far, the last 3"
    assert lines[1].startswith("asset") and lines[1].endswith("~")  # the header cut at the width
    assert len(lines) == 2 + 3 and all(len(line) <= 60 for line in lines)
    assert "synthetic/pump-2" in lines[-1] and "12.5 > 8.25" in lines[-1]


def _drain(fd: int, into: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other end is closed and everything was read
            return
        if not chunk:
            return
        into.append(chunk)


def test_on_a_pty_the_block_is_redrawn_in_place_with_messages_above_it(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    master, slave = os.openpty()
    chunks: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(master, chunks), daemon=True)  # a full pty buffer blocks writes
    reader.start()
    try:
        assert os.isatty(slave)
        with open(slave, "w", closefd=False) as tty_out:
            clock = Clock()
            view = LiveView(tty_out, tty=True, rows=4, clock=clock)
            view.update(total=60)
            for i in range(6):
                clock.t += 1.0
                view.alert(_alert(i))
                view.update(sent=10 * (i + 1))
            view.message("demo: waiting: 40 of 60 committed")
            view.close()
    finally:
        os.close(slave)
        reader.join(10)
        os.close(master)
    text = b"".join(chunks).decode().replace("\r", "")
    assert re.search(r"\x1b\[\d+F\x1b\[J", text), "the block is never moved over and cleared"
    final = text.rsplit("\x1b[J", 1)[-1].splitlines()
    assert final[0] == "live alerts: 6 so far, the last 4"
    assert [line.split()[0] for line in final[2:6]] == [f"synthetic/pump-{i}" for i in range(2, 6)]
    assert final[-1].startswith("progress: sent 60 of 60")
    assert all(len(line) < 100 for line in final)
    assert "demo: waiting: 40 of 60 committed" in text


def test_say_prints_through_the_view_while_it_is_on(capsys):
    from latentwatch.demo import print_through, say

    got: list[str] = []
    print_through(got.append)
    try:
        say("replay: 10 sent")
    finally:
        print_through(None)
    say("after")
    assert got == ["demo: replay: 10 sent"] and capsys.readouterr().out == "demo: after\n"
