from __future__ import annotations

import os
import signal
import time

from daemon.signals import Flags, install, restore


def wait(event, timeout=2.0):
    deadline = time.monotonic() + timeout
    while not event.is_set() and time.monotonic() < deadline:
        time.sleep(0.01)
    return event.is_set()


def test_sigterm_and_sigint_only_set_the_stop_flag_and_sighup_the_reload_flag():
    flags = Flags()
    previous = install(flags)
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        assert wait(flags.reload) and not flags.stop.is_set()
        os.kill(os.getpid(), signal.SIGTERM)
        assert wait(flags.stop)
        assert flags.signal_name == "SIGTERM"
        os.kill(os.getpid(), signal.SIGINT)  # a second signal changes nothing, and does not raise KeyboardInterrupt
        time.sleep(0.05)
        assert flags.signal_name == "SIGTERM"
    finally:
        restore(previous)
    assert signal.getsignal(signal.SIGTERM) == previous[signal.SIGTERM]
