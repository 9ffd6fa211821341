"""``latentwatch run`` as a child process, read from the outside (/healthz, /metrics, /proc CPU), for
``latentwatch demo``, ``latentwatch bench e2e`` and ``bench state``, and the end-to-end tests: they measure the daemon
exactly as it ships."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text -> {'name{labels}': value} (samples only)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                continue
    return out


def metric_sum(metrics: Mapping[str, float], name: str) -> float:
    """Sum of every labelled sample of counter ``name`` (``name_total`` in the exposition)."""
    total = 0.0
    for k, v in metrics.items():
        base = k.split("{", 1)[0]
        if base in (name, f"{name}_total"):
            total += v
    return total


def metric_by_label(metrics: Mapping[str, float], name: str, label: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in metrics.items():
        base, _, rest = k.partition("{")
        if base in (name, f"{name}_total") and f'{label}="' in rest:
            out[rest.split(f'{label}="', 1)[1].split('"', 1)[0]] = v
    return out


class DaemonProcess:
    """``python -m latentwatch run --config FILE`` as a child process, optionally under cProfile."""

    def __init__(
        self,
        config: Path,
        log: Path,
        http_port: int,
        profile: Path | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.config, self.log, self.http_port, self.profile = Path(config), Path(log), http_port, profile
        self.cwd = cwd
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **dict(env or {})}
        self.env.setdefault("OMP_NUM_THREADS", "1")
        self.env.pop("NOTIFY_SOCKET", None)
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0

    @property
    def command(self) -> list[str]:
        prof = ["-m", "cProfile", "-o", str(self.profile)] if self.profile else []
        return [sys.executable, *prof, "-m", "latentwatch", "run", "--config", str(self.config)]

    def start(self) -> DaemonProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.command,
                cwd=self.cwd or os.getcwd(),
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.started_at = time.monotonic()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(
                f"the daemon exited with {self.proc.returncode}; last lines of {self.log}:\n{self.tail()}"
            )

    def _get(self, path: str) -> tuple[int, str] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError:
            return None

    def health(self) -> tuple[int, str] | None:
        return self._get("/healthz")

    def wait_consuming(self, timeout_s: float = 180) -> float:
        """Wait for /healthz 200 (model loaded, partitions assigned); returns the seconds it took."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.check_alive()
            h = self.health()
            if h is not None and h[0] == 200:
                return time.monotonic() - self.started_at
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the daemon did not report healthy within {timeout_s:.0f}s "
                    f"(last /healthz: {h}); last lines of {self.log}:\n{self.tail()}"
                )
            time.sleep(0.2)

    def metrics(self) -> dict[str, float]:
        got = self._get("/metrics")
        if got is None or got[0] != 200:
            raise RuntimeError(f"no /metrics from the daemon on port {self.http_port}: {got}")
        return parse_metrics(got[1])

    def stop(self, timeout_s: float = 90) -> int:
        """SIGTERM and wait for the exit code (SIGKILL after ``timeout_s``, then raise)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
            raise RuntimeError(
                f"the daemon did not exit within {timeout_s:.0f}s of SIGTERM; killed. Last lines of "
                f"{self.log}:\n{self.tail()}"
            ) from None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds (user+system) of a live process from /proc (Linux): ``total`` (every thread it ever ran, exited
    ones included), ``main`` (the daemon's loop: poll, decode, score, threshold, alert, producer.send, commit) and
    ``other`` = total - main (kafka-python's IO, sender and heartbeat threads, the HTTP server, worker pools);
    {} where /proc is not there."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def cpu(path: Path) -> float:
        stat = path.read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / tick

    try:
        total, main = cpu(Path(f"/proc/{pid}/stat")), cpu(Path(f"/proc/{pid}/task/{pid}/stat"))
    except OSError:
        return {}
    return {"main": round(main, 2), "other": round(total - main, 2), "total": round(total, 2)}
