"""Start, stop and probe the local broker through the packaged ``kafka.sh`` (``latentwatch demo``, ``bench e2e``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping
from typing import Any

from latentwatch.kafka import script_path
from latentwatch.kafka.admin import admin_client


def _is_local(bootstrap: str) -> bool:
    host = bootstrap.rsplit(":", 1)[0]
    return host in ("127.0.0.1", "localhost", "::1", "[::1]")


def kafka_sh(command: str, bootstrap: str, timeout_s: float = 600) -> subprocess.CompletedProcess:
    """Run the packaged ``kafka.sh COMMAND`` for the broker on ``bootstrap``'s port (stderr passes through)."""
    env = {**os.environ, "LATENTWATCH_KAFKA_PORT": bootstrap.rsplit(":", 1)[1]}
    env.setdefault("LATENTWATCH_PYTHON", sys.executable)
    return subprocess.run(
        ["bash", str(script_path()), command], env=env, stdout=subprocess.PIPE, text=True, timeout=timeout_s
    )


def answers(bootstrap: str, security: Mapping[str, Any] | None = None, timeout_s: float = 5.0) -> bool:
    """True when a broker on ``bootstrap`` answers a metadata request."""
    host, port = bootstrap.rsplit(":", 1)
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except OSError:
        return False
    try:
        with admin_client(bootstrap, security, timeout_ms=int(timeout_s * 1000)) as admin:
            return bool(admin.describe_cluster()["brokers"])
    except Exception:
        return False


def ensure_broker(
    bootstrap: str, security: Mapping[str, Any] | None = None, say: Callable[[str], None] = print
) -> bool:
    """Make sure a broker answers on ``bootstrap``; start the local one (kafka.sh) if it does not.
    Returns True when this call started it (so the caller stops it at the end)."""
    if answers(bootstrap, security):
        say(f"broker: {bootstrap} answers (already running; left running at the end)")
        return False
    if not _is_local(bootstrap):
        raise RuntimeError(f"no Kafka broker answers on {bootstrap}, and it is not local: start it first")
    say(
        f"broker: nothing answers on {bootstrap}; starting the local one (latentwatch kafka start; "
        "the first start fetches the jars with Maven)"
    )
    proc = kafka_sh("start", bootstrap)
    if proc.returncode != 0:
        raise RuntimeError(f"kafka.sh start failed (exit {proc.returncode}); see its messages above")
    return True


def stop_broker(bootstrap: str) -> None:
    kafka_sh("stop", bootstrap, timeout_s=180)
