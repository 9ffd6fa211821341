"""HTTP ``/healthz`` (200 while consuming, 503 otherwise, with the reason) and ``/metrics`` on a background thread.

Concurrency is bounded: at most ``max_connections`` requests are handled at once (a thread each), a connection that
arrives while all are busy is closed at once, and one that sends nothing, or only part of a request, is dropped
after ``request_timeout_s``. So 1,000 half-open requests hold ``max_connections`` threads for at most
``request_timeout_s`` (the stdlib's ThreadingHTTPServer gave each one a thread for as long as it stayed open), and
a probe is answered again at most ``request_timeout_s`` after the flood stops.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST


class _BoundedServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], handler: type, max_connections: int) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # all busy: refuse now rather than queue behind slow clients
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out or went away; nothing to report

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class HealthServer:
    def __init__(
        self,
        host: str,
        port: int,
        healthy: Callable[[], tuple[bool, str]],
        metrics: Callable[[], bytes],
        max_connections: int = 8,
        request_timeout_s: float = 5.0,
    ) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            timeout = request_timeout_s  # applied to the socket: a stalled read ends the request

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    ok, why = outer.healthy()
                    self._send(200 if ok else 503, f"{why}\n".encode(), "text/plain; charset=utf-8")
                elif path == "/metrics":
                    self._send(200, outer.metrics(), CONTENT_TYPE_LATEST)
                else:
                    self._send(404, b"not found\n", "text/plain; charset=utf-8")

            def _send(self, code: int, body: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.healthy = healthy
        self.metrics = metrics
        self.server = _BoundedServer((host, port), Handler, max_connections)
        self._thread = threading.Thread(target=self.server.serve_forever, name="latentwatch-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
