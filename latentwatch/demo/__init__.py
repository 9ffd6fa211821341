"""`latentwatch demo`: the main job end to end on the embedded default, with a summary a reliability engineer can check.

    latentwatch demo                         # conf/local.yaml, all 34 labelled SKAB runs
    latentwatch demo --runs 3 --epochs 5     # a quick one (what the test runs)
    latentwatch demo --synthetic             # no data sets: the simulated plant (latentwatch/demo/synthetic.py)

Steps, each printed as it happens:
  1. broker: use the one on the config's bootstrap address; if none answers and it is local, start it with
     ``scripts/kafka.sh start`` (and stop it at the end, only then);
  2. model: use the config's current artifact if it is SKAB's row (b) trained with today's ``SkabSettings``; else
     (or with ``--retrain``) train one into the artifact root with the SKAB evaluation's own code and settings
     (``pipelines.evaluate.skab.models.deployment_base`` on the anomaly-free run, ``deployment_normal`` per labelled
     run from its first 400 rows) on one torch thread: measured 33 s of CPU (the time is printed);
  3. topics: create the input (4 partitions), alert (2) and dead-letter (1) topics when missing; if the consumer group
     has a backlog left by an earlier run, move its committed offsets to the end (refused while the group has live
     members: another daemon would share the partitions and the counts would mean nothing);
  4. daemon: ``latentwatch run --config <out>/demo/daemon.yaml`` as a child process. That file is ``--config``
     with its changes written into it: the threshold/episode checkpoint goes to ``<out>/demo/state/`` and starts
     empty (so every demo starts from the calibration fit, and a real daemon's state under var/state is untouched),
     and ``http.port`` moves to a free port when the configured one is taken; for row (b) the threshold,
     persistence and episode keys the evaluation decides with (``prepare.skab_daemon_settings``);
  5. replay: one message of each dead-letter class the config allows (``latentwatch.replay.bad_message``), then the
     labelled SKAB runs through ``latentwatch.replay.replay`` (the replay producer), as fast as the producer goes
     (``--rate`` to pace it);
     While it sends and waits, the live view (``latentwatch/demo/live.py``, ``--live``) shows each alert as the
     daemon publishes it and a progress line: windows sent, scored, committed;
  6. wait (at most ``--timeout`` seconds) until the group's committed offsets reach the input topic's end offsets;
  7. read the daemon's /metrics, the alert topic and the dead-letter topic (from where they ended before the run),
     SIGTERM the daemon, check it exited 0, read its final checkpoint (episodes still open);
  8. print the summary and write it as JSON (``--out``, default out/demo.json).

Checks (exit 1 when one fails): consumed = scored + dead-lettered = messages produced; every injected bad message was
dead-lettered with its reason; the dead-letter topic holds exactly the dead letters the daemon counted; the alert topic
holds exactly the alerts it counted; committed offsets = end offsets; the daemon exited 0 on SIGTERM.
Exit 2: it could not run (no broker, no data: it then says where SKAB comes from, how to point at it, and offers
``--synthetic``; the group is in use, the daemon did not start).

Modules: model (the SKAB artifact), synthetic (``--synthetic``: the simulated plant's artifact, streams and scores),
prepare (topics, group, the daemon's config), traffic (what is sent and waited for), live (the live alert view),
outcome (episodes, detection, checks), report; latentwatch/commands/demo.py runs them in order.
"""

from __future__ import annotations

import time
from collections.abc import Callable

_sink: Callable[[str], None] | None = None


class DemoError(RuntimeError):
    """The demo could not run (exit 2); the message says what to do."""


def say(msg: str) -> None:
    line = f"demo: {msg}"
    if _sink is not None:
        _sink(line)
    else:
        print(line, flush=True)


def print_through(sink: Callable[[str], None] | None) -> None:
    """Route say() through ``sink`` (the live view prints the demo's lines above its table); None: plain print."""
    global _sink
    _sink = sink


def now() -> float:
    return time.monotonic()
