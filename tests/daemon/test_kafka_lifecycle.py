"""Process-level lifecycle against the real broker: `latentwatch run` under a notify socket, SIGTERM, rebalance."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from daemon.config import load_config
from tests.daemon.conftest import DIM
from tests.daemon.kafka_io import all_committed, committed_and_end, good_windows, produce

pytestmark = pytest.mark.kafka
REPO = Path(__file__).resolve().parents[2]


def test_sigterm_mid_stream_exits_zero_after_committing_everything_it_read(make_config, kafka_bootstrap, tmp_path):
    path = make_config("sigterm", threshold={"checkpoint_interval_s": 3600})
    cfg = load_config(path)
    sock_path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(120)
    env = {**os.environ, "NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "2000000", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "latentwatch", "run", "--config", str(path)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    logs: list[bytes] = []
    reader = threading.Thread(target=lambda: logs.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        messages = []
        while b"READY=1" not in messages:
            messages.append(sock.recv(256))
        stop = threading.Event()

        def keep_producing() -> None:
            i = 0
            while not stop.is_set():
                produce(kafka_bootstrap, cfg.kafka.input_topic, good_windows(200, DIM, seed=i, anomaly_every=0))
                i += 1

        producer = threading.Thread(target=keep_producing, daemon=True)
        producer.start()
        time.sleep(3.0)
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=cfg.shutdown_timeout_s + 10)
        stop.set()
        producer.join(30)
        while b"STOPPING=1" not in messages:
            messages.append(sock.recv(256))
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()
    reader.join(5)
    text = b"".join(logs).decode(errors="replace")
    assert rc == 0, text[-3000:]
    assert b"WATCHDOG=1" in messages
    assert '"event": "stopped"' in text and '"drained": true' in text
    committed, end = committed_and_end(kafka_bootstrap, cfg.kafka.group_id, cfg.kafka.input_topic)
    read_upto = sum(v or 0 for v in committed.values())
    assert read_upto > 0
    # What the daemon read it committed: its last log line lists the same offsets.
    final = [line for line in text.splitlines() if '"event": "stopped"' in line][-1]
    for p, off in committed.items():
        if off:
            assert f'"{cfg.kafka.input_topic}:{p}": {off}' in final


def own_state(path, name):
    """The same config with its own checkpoint file: each daemon of a group keeps its own state."""
    import yaml

    doc = yaml.safe_load(path.read_text())
    doc["threshold"]["checkpoint_path"] = doc["threshold"]["checkpoint_path"].replace(".json", f"-{name}.json")
    out = path.with_name(f"{path.stem}-{name}.yaml")
    out.write_text(yaml.safe_dump(doc))
    return out


def test_revoke_drains_what_the_batcher_holds_and_commits_it_from_the_listener(
    make_config, start_daemon, kafka_bootstrap
):
    # A batcher that waits 60 s holds everything it polled, so only the revoke drain can score and commit it.
    path = make_config("scale", batching={"max_records": 10000, "max_wait_ms": 60000, "max_in_flight": 20000})
    cfg = load_config(path)
    produce(kafka_bootstrap, cfg.kafka.input_topic, good_windows(2000, DIM, anomaly_every=0, assets=20))
    a = start_daemon(path)
    a.wait_for(lambda: a.daemon.metrics.consumed._value.get() == 2000, what="first member reading every window")

    def rebalance():  # the listener of the consumer now (a stalled rejoin makes a new one)
        return a.daemon.loop.rebalance

    assert a.daemon.metrics.scored._value.get() == 0 or rebalance().revokes > 0  # only a revoke scores early
    b = start_daemon(own_state(path, "b"))
    a.wait_for(
        lambda: rebalance().revoke_commits >= 1 or rebalance().revoke_failures,
        timeout=90,
        what="a commit from the revoke listener",
    )
    assert rebalance().revoke_failures == 0
    assert a.daemon.metrics.scored._value.get() == 2000
    committed, end = committed_and_end(kafka_bootstrap, cfg.kafka.group_id, cfg.kafka.input_topic)
    assert all_committed(committed, end)
    b.wait_for(lambda: b.daemon.assignment, what="second member assigned", timeout=90)
    a.wait_for(
        lambda: a.daemon.assignment is not None and len(a.daemon.assignment) + len(b.daemon.assignment) == 4,
        timeout=60,
        what="the four partitions split between the two",
    )
    assert b.stop() == 0 and a.stop() == 0
    assert b.daemon.metrics.scored._value.get() == 0  # nothing was read twice
