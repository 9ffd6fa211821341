from __future__ import annotations

import os
import socket
import uuid

import pytest

from daemon.notify import Notifier


@pytest.fixture
def path_socket(tmp_path):
    path = str(tmp_path / "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(2)
    yield path, s
    s.close()


def test_ready_stopping_status_reach_a_path_socket(path_socket):
    path, s = path_socket
    n = Notifier.from_env({"NOTIFY_SOCKET": path})
    assert n.ready() and n.status("consuming 4 partitions") and n.stopping()
    assert [s.recv(256) for _ in range(3)] == [b"READY=1", b"STATUS=consuming 4 partitions", b"STOPPING=1"]
    n.close()


def test_abstract_namespace_socket():
    name = f"latentwatch-test-{uuid.uuid4().hex}"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + name)
    s.settimeout(2)
    try:
        assert Notifier.from_env({"NOTIFY_SOCKET": "@" + name}).ready()
        assert s.recv(64) == b"READY=1"
    finally:
        s.close()


def test_watchdog_at_half_the_interval(path_socket):
    path, s = path_socket
    n = Notifier.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"})
    assert n.watchdog_interval_s == 1.0
    assert n.watchdog(now=10.0)
    assert not n.watchdog(now=10.5)
    assert n.watchdog(now=11.0)
    assert [s.recv(64), s.recv(64)] == [b"WATCHDOG=1", b"WATCHDOG=1"]


def test_watchdog_for_another_pid_is_ignored(path_socket):
    path, _ = path_socket
    n = Notifier.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid() + 1)})
    assert n.watchdog_interval_s is None and not n.watchdog(now=1.0)


def test_without_notify_socket_everything_is_a_quiet_no_op():
    n = Notifier.from_env({})
    assert not n.enabled and not n.ready() and not n.watchdog() and not n.stopping()


def test_a_vanished_socket_never_raises(tmp_path):
    assert not Notifier.from_env({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")}).ready()
