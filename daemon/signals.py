"""Signal handlers only set flags; the main loop reads them between batches."""

from __future__ import annotations

import signal
import threading
from typing import Any


class Flags:
    def __init__(self) -> None:
        self.stop = threading.Event()
        self.reload = threading.Event()
        self.signal_name: str | None = None

    def request_stop(self, name: str = "request") -> None:
        self.signal_name = self.signal_name or name
        self.stop.set()


def install(flags: Flags) -> dict[int, Any]:
    """SIGTERM/SIGINT -> stop, SIGHUP -> reload. Returns the previous handlers, for ``restore``."""

    def on_stop(signum: int, frame: Any) -> None:
        flags.request_stop(signal.Signals(signum).name)

    def on_hup(signum: int, frame: Any) -> None:
        flags.reload.set()

    previous: dict[int, Any] = {}
    for sig, handler in ((signal.SIGTERM, on_stop), (signal.SIGINT, on_stop), (signal.SIGHUP, on_hup)):
        previous[sig] = signal.signal(sig, handler)
    return previous


def restore(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
