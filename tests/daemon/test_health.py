"""/healthz and /metrics under a flood of half-open requests: bounded threads, each slow client timed out."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request

from daemon.health import HealthServer


def _get(port: int, path: str = "/healthz", timeout: float = 10) -> tuple[int, bytes]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return r.status, r.read()


def test_half_open_requests_hold_at_most_max_connections_threads_and_time_out():
    server = HealthServer(
        "127.0.0.1", 0, lambda: (True, "consuming"), lambda: b"m 1\n", max_connections=4, request_timeout_s=1.0
    ).start()
    before = threading.active_count()
    socks = []
    try:
        for _ in range(300):
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect(("127.0.0.1", server.port))
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
            except OSError:
                s.close()
                continue
            socks.append(s)
        time.sleep(0.5)
        assert len(socks) >= 50
        assert threading.active_count() - before <= 4
        # the slow ones are dropped after request_timeout_s, the rest were refused: a probe gets through while
        # every one of them is still open on the client's side
        time.sleep(1.5)
        assert _get(server.port, timeout=5) == (200, b"consuming\n")
        assert threading.active_count() - before <= 4
    finally:
        for s in socks:
            s.close()
        server.stop()


def test_healthz_and_metrics_answer():
    server = HealthServer("127.0.0.1", 0, lambda: (False, "connecting to Kafka"), lambda: b"m 1\n").start()
    try:
        import urllib.error

        try:
            _get(server.port)
        except urllib.error.HTTPError as e:
            assert e.code == 503 and e.read() == b"connecting to Kafka\n"
        else:
            raise AssertionError("503 expected")
        assert _get(server.port, "/metrics") == (200, b"m 1\n")
    finally:
        server.stop()
