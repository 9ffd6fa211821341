"""Kafka and process helpers shared by ``latentwatch demo`` and ``latentwatch bench e2e``.

Nothing here is on the daemon's path: these are the tools that drive a real broker and a real daemon process from
the outside (start the local broker, create topics, read offsets and topics back, run ``latentwatch run`` as a child
process and read its /healthz and /metrics) so the demo and the benchmarks measure the daemon exactly as it ships.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

REPO = Path(__file__).resolve().parents[1]
KAFKA_SH = REPO / "scripts" / "kafka.sh"

Offsets = dict[int, int]  # partition -> offset, for one topic


# -- the local broker -----------------------------------------------------------------------------------------------

def _is_local(bootstrap: str) -> bool:
    host = bootstrap.rsplit(":", 1)[0]
    return host in ("127.0.0.1", "localhost", "::1", "[::1]")


def kafka_sh(command: str, bootstrap: str, timeout_s: float = 600) -> subprocess.CompletedProcess:
    """Run ``scripts/kafka.sh COMMAND`` for the broker on ``bootstrap``'s port (stderr passes through)."""
    env = {**os.environ, "LATENTWATCH_KAFKA_PORT": bootstrap.rsplit(":", 1)[1]}
    env.setdefault("LATENTWATCH_PYTHON", sys.executable)
    return subprocess.run(["bash", str(KAFKA_SH), command], env=env, stdout=subprocess.PIPE, text=True,
                          timeout=timeout_s)


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


def ensure_broker(bootstrap: str, security: Mapping[str, Any] | None = None,
                  say: Callable[[str], None] = print) -> bool:
    """Make sure a broker answers on ``bootstrap``; start the local one (scripts/kafka.sh) if it does not.
    Returns True when this call started it (so the caller stops it at the end)."""
    if answers(bootstrap, security):
        say(f"broker: {bootstrap} answers (already running; left running at the end)")
        return False
    if not _is_local(bootstrap):
        raise RuntimeError(f"no Kafka broker answers on {bootstrap}, and it is not local: start it first")
    say(f"broker: nothing answers on {bootstrap}; starting the local one (scripts/kafka.sh start; "
        "the first start fetches the jars with Maven)")
    proc = kafka_sh("start", bootstrap)
    if proc.returncode != 0:
        raise RuntimeError(f"scripts/kafka.sh start failed (exit {proc.returncode}); see its messages above")
    return True


def stop_broker(bootstrap: str) -> None:
    kafka_sh("stop", bootstrap, timeout_s=180)


# -- admin, offsets, reading back -----------------------------------------------------------------------------------

def _quiet_kafka() -> None:
    logging.getLogger("kafka").setLevel(logging.ERROR)


@contextmanager
def admin_client(bootstrap: str, security: Mapping[str, Any] | None = None,
                 timeout_ms: int = 30000) -> Iterator[Any]:
    from kafka import KafkaAdminClient

    _quiet_kafka()
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="latentwatch-tools",
                             request_timeout_ms=timeout_ms, bootstrap_timeout_ms=timeout_ms,
                             **dict(security or {}))
    try:
        yield admin
    finally:
        admin.close()


def ensure_topics(bootstrap: str, topics: Mapping[str, int], security: Mapping[str, Any] | None = None) -> list[str]:
    """Create the topics (name -> partitions) that do not exist yet; returns the names created."""
    with admin_client(bootstrap, security) as admin:
        existing = set(admin.list_topics())
        missing = {t: n for t, n in topics.items() if t not in existing}
        if missing:
            admin.create_topics({t: {"num_partitions": n, "replication_factor": 1} for t, n in missing.items()})
        admin.wait_for_topics(list(topics), timeout_ms=60000)
    return sorted(missing)


def delete_topics(bootstrap: str, topics: Sequence[str], security: Mapping[str, Any] | None = None) -> None:
    with admin_client(bootstrap, security) as admin:
        admin.delete_topics(list(topics), raise_errors=False)


def end_offsets(bootstrap: str, topic: str, security: Mapping[str, Any] | None = None) -> Offsets:
    from kafka import KafkaConsumer, TopicPartition

    _quiet_kafka()
    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id="latentwatch-tools-ends", **dict(security or {}))
    try:
        parts = c.partitions_for_topic(topic) or set()
        return {tp.partition: o for tp, o in c.end_offsets([TopicPartition(topic, p) for p in parts]).items()}
    finally:
        c.close()


# The group coordinator of a broker that has just started (its __consumer_offsets topic created on first use) answers
# "not available" or "load in progress" for a few seconds; every group call below waits through that, bounded.
COORDINATOR_WAIT_S = 60.0


class CoordinatorUnavailable(RuntimeError):
    """The broker answered but its group coordinator did not become ready within the wait."""


def with_coordinator(call: Callable[[], Any], group: str, bootstrap: str,
                     timeout_s: float = COORDINATOR_WAIT_S) -> Any:
    """``call()``, retried while the broker says the coordinator of ``group`` is not ready yet (backoff 0.1 s to
    2 s, ``timeout_s`` in all); then ``CoordinatorUnavailable`` naming the group, the broker and the last error."""
    from kafka.errors import CoordinatorLoadInProgressError, CoordinatorNotAvailableError, NotCoordinatorError

    deadline, pause = time.monotonic() + timeout_s, 0.1
    while True:
        try:
            return call()
        except (CoordinatorNotAvailableError, CoordinatorLoadInProgressError, NotCoordinatorError) as e:
            if time.monotonic() + pause > deadline:
                raise CoordinatorUnavailable(
                    f"the group coordinator for {group!r} on {bootstrap} was not ready within {timeout_s:g}s "
                    f"(last answer: {type(e).__name__}); is the broker healthy? (scripts/kafka.sh status)") from e
            time.sleep(pause)
            pause = min(2.0, pause * 2)


def committed(bootstrap: str, group: str, topic: str, security: Mapping[str, Any] | None = None,
              admin: Any = None) -> Offsets:
    """The group's committed offsets on ``topic`` (partitions without a commit are left out)."""
    def fetch(a: Any) -> Offsets:
        got = with_coordinator(lambda: a.list_group_offsets({group: None}), group, bootstrap).get(group, {})
        return {tp.partition: om.offset for tp, om in got.items() if tp.topic == topic and om.offset >= 0}

    if admin is not None:
        return fetch(admin)
    with admin_client(bootstrap, security) as a:
        return fetch(a)


def group_members(bootstrap: str, group: str, security: Mapping[str, Any] | None = None) -> int:
    with admin_client(bootstrap, security) as admin:
        groups = with_coordinator(lambda: admin.describe_groups([group]), group, bootstrap)
        return len(groups.get(group, {}).get("members") or [])


def set_committed(bootstrap: str, group: str, topic: str, offsets: Offsets,
                  security: Mapping[str, Any] | None = None) -> None:
    """Commit ``offsets`` for a group that has no members (the daemon is not running)."""
    from kafka.structs import OffsetAndMetadata, TopicPartition

    from kafka.errors import CoordinatorLoadInProgressError, CoordinatorNotAvailableError, NotCoordinatorError

    def attempt() -> dict[Any, Any]:
        got = admin.alter_group_offsets(group, {TopicPartition(topic, p): OffsetAndMetadata(o, "", -1)
                                                for p, o in offsets.items()})
        for err in got.values():  # reported per partition, not raised
            if err in (CoordinatorLoadInProgressError, CoordinatorNotAvailableError, NotCoordinatorError):
                raise err()
        return got

    with admin_client(bootstrap, security) as admin:
        result = with_coordinator(attempt, group, bootstrap)
    bad = {str(tp): err for tp, err in result.items() if getattr(err, "__name__", str(err)) != "NoError"}
    if bad:
        raise RuntimeError(f"could not set the committed offsets of group {group}: {bad}")


def read_range(bootstrap: str, topic: str, start: Offsets, end: Offsets | None = None,
               security: Mapping[str, Any] | None = None, timeout_s: float = 120) -> list[Any]:
    """The records of ``topic`` from ``start`` (per partition; 0 where missing) up to ``end`` (default: the end
    offsets now), in (partition, offset) order."""
    from kafka import KafkaConsumer, TopicPartition

    end = end_offsets(bootstrap, topic, security) if end is None else end
    todo = {p: (start.get(p, 0), e) for p, e in end.items() if e > start.get(p, 0)}
    if not todo:
        return []
    _quiet_kafka()
    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id="latentwatch-tools-reader", enable_auto_commit=False,
                      max_partition_fetch_bytes=8 << 20, **dict(security or {}))
    out: list[Any] = []
    try:
        tps = {p: TopicPartition(topic, p) for p in todo}
        c.assign(list(tps.values()))
        for p, (s, _) in todo.items():
            c.seek(tps[p], s)
        deadline = time.monotonic() + timeout_s
        while any(c.position(tps[p]) < e for p, (_, e) in todo.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} up to {end} within {timeout_s:.0f}s")
            for recs in c.poll(timeout_ms=500).values():
                out.extend(r for r in recs if r.offset < todo[r.partition][1])
    finally:
        c.close()
    return sorted(out, key=lambda r: (r.partition, r.offset))


# -- the daemon as a child process ----------------------------------------------------------------------------------

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

    def __init__(self, config: Path, log: Path, http_port: int, profile: Path | None = None,
                 env: Mapping[str, str] | None = None, cwd: Path | None = None) -> None:
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

    def start(self) -> "DaemonProcess":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.command, cwd=self.cwd or os.getcwd(), env=self.env, stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
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
            raise RuntimeError(f"the daemon exited with {self.proc.returncode}; last lines of {self.log}:\n"
                               f"{self.tail()}")

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
                raise TimeoutError(f"the daemon did not report healthy within {timeout_s:.0f}s "
                                   f"(last /healthz: {h}); last lines of {self.log}:\n{self.tail()}")
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
            raise RuntimeError(f"the daemon did not exit within {timeout_s:.0f}s of SIGTERM; killed. Last lines of "
                               f"{self.log}:\n{self.tail()}") from None

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
        fields = stat[stat.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / tick

    try:
        total, main = cpu(Path(f"/proc/{pid}/stat")), cpu(Path(f"/proc/{pid}/task/{pid}/stat"))
    except OSError:
        return {}
    return {"main": round(main, 2), "other": round(total - main, 2), "total": round(total, 2)}
