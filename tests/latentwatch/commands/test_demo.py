"""`latentwatch demo` end to end on the real broker, reduced: 3 SKAB runs, a 5-epoch model, its own topics and group.

As on a fresh machine: nothing answers on the config's address and the data directory was never used, so the demo
starts that broker itself (scripts/kafka.sh start formats new storage), creates its topics and asks the group
coordinator about its group seconds after the broker came up (which once crashed a first run with
CoordinatorNotAvailableError). It trains into the config's artifact root (a temporary one here), starts the real
daemon as a child process, replays, waits for the commits and checks its own counts; this test checks the summary it
wrote adds up and that the broker it started is stopped again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.kafka


@pytest.fixture
def never_used_broker(tmp_path):
    """Where a broker would be: two free ports and a data directory that does not exist yet (nothing started)."""
    from latentwatch.daemon_process import free_port
    from latentwatch.kafka.broker import answers

    if shutil.which("java") is None:
        pytest.fail("the demo test needs Java 17+ on PATH to start its own broker", pytrace=False)
    port, controller = free_port(), free_port()
    env = {
        **os.environ,
        "LATENTWATCH_KAFKA_PORT": str(port),
        "LATENTWATCH_KAFKA_CONTROLLER_PORT": str(controller),
        "LATENTWATCH_KAFKA_DATA": str(tmp_path / "kafka-data"),
        "LATENTWATCH_PYTHON": sys.executable,
    }
    bootstrap = f"127.0.0.1:{port}"
    assert not answers(bootstrap) and not (tmp_path / "kafka-data").exists()
    yield bootstrap, env
    subprocess.run(["bash", str(REPO / "scripts" / "kafka.sh"), "wipe"], env=env, capture_output=True, timeout=240)


def _config(tmp_path: Path, bootstrap: str, topics: dict[str, str]) -> Path:
    doc = yaml.safe_load((REPO / "conf" / "local.yaml").read_text())
    doc["kafka"].update(
        bootstrap_servers=[bootstrap],
        input_topic=topics["input"],
        alert_topic=topics["alerts"],
        dead_letter_topic=topics["dead"],
        group_id=f"demo-test-{uuid.uuid4().hex[:8]}",
        client_id="demo-test",
    )
    doc["artifact"] = {"root": str(tmp_path / "artifacts"), "check_interval_s": 3600}
    doc["threshold"]["checkpoint_path"] = str(tmp_path / "unused-state.json")
    doc["dead_letter"]["max_bytes"] = 16384  # small enough that an "oversized" message can be produced too
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_demo_reduced_counts_add_up_on_a_never_used_broker(tmp_path, never_used_broker):
    from latentwatch.kafka.broker import answers

    bootstrap, broker_env = never_used_broker
    topics = {"input": "demo-in", "alerts": "demo-alerts", "dead": "demo-dead"}  # the demo creates them
    config = _config(tmp_path, bootstrap, topics)
    out = tmp_path / "out" / "demo.json"
    env = {**broker_env, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "latentwatch",
            "demo",
            "--config",
            str(config),
            "--runs",
            "3",
            "--epochs",
            "5",
            "--out",
            str(out),
            "--timeout",
            "600",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert proc.returncode == 0, f"demo exit {proc.returncode}\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
    s = json.loads(out.read_text())
    assert "every check passed" in proc.stdout
    assert s["broker"] == {"bootstrap": bootstrap, "started_by_demo": True}
    assert not answers(bootstrap), "the demo left the broker it started running"
    assert s["ok"] and all(s["checks"].values()), s["checks"]

    d, r = s["daemon"], s["replay"]
    assert s["artifact"]["trained_now"] and s["artifact"]["epochs"] == 5
    assert r["runs"] == 3 and r["windows"] > 1000 and r["errors"] == 0
    # every consumed message ends as scored or dead-lettered, and that is everything produced
    bad = r["bad_messages"]
    assert d["consumed"] == d["scored"] + d["dead_lettered"] == r["windows"] + len(bad)
    assert d["scored"] == r["windows"] and d["dead_lettered"] == len(bad)
    # one bad message of every class, oversized included (max_bytes 16384), each dead-lettered with its own reason
    from latentwatch.replay import BAD_KINDS

    assert sorted(b["kind"] for b in bad) == sorted(BAD_KINDS)
    assert all(b["dead_lettered_as"] == b["kind"] for b in bad), bad
    assert d["dead_lettered_by_reason"] == {k: 1 for k in sorted(BAD_KINDS)}
    assert s["topics_read"]["dead_letters_by_reason"] == d["dead_lettered_by_reason"]
    # offsets: committed = end, and the messages between start and end are exactly what was produced
    assert s["offsets"]["committed"] == s["offsets"]["end"]
    assert s["offsets"]["messages"] == d["consumed"]
    # alerts: what the topic holds is what the daemon counted; episodes are accounted for run by run
    assert s["topics_read"]["alerts"] == sum(d["alerts_by_event"].values())
    assert d["alarms"] >= d["alerts_by_event"].get("open", 0)
    ep = s["episodes"]
    assert ep["total"] == ep["overlapping_a_labelled_anomaly"] + ep["in_normal_spans"]
    assert ep["total"] == sum(run["episodes"] for run in s["runs"])
    assert len(s["runs"]) == 3  # evenly spread over the 34 runs
    assert s["detection"]["runs_with_anomaly"] == 3
    # the deployment shape: each run's first 400 rows are its own normal, the rest is streamed and scored by SKAB's
    # metrics over one decision per streamed row
    assert s["artifact"]["asset_normals"] == 34
    sk = s["skab"]
    assert sk["files"] == 3 and sk["faults"]["of"] == 3
    b = sk["binary"]
    assert b["tp"] + b["fp"] + b["fn"] + b["tn"] == r["windows"]
    e = sk["episode"]["binary"]  # rows inside an episode: the alarmed rows and each episode's quiet tail
    assert e["tp"] + e["fp"] + e["fn"] + e["tn"] == r["windows"] and e["tp"] >= b["tp"] and e["fp"] >= b["fp"]
    assert "F1" in proc.stdout and "faults detected" in proc.stdout
    # the daemon ran the SKAB evaluation's decision settings, taken from the artifact it trained
    changes = s["daemon_config"]["changes"]
    assert changes["threshold.method"] == "spot" and changes["episodes.quiet_seconds"] is None
    assert s["artifact"]["settings"]["epochs"] == 5 and s["artifact"]["settings"]["length"] == 10
    assert d["exit_code"] == 0
    # the daemon ran with a fresh checkpoint in the demo's own folder, not the config's
    assert s["daemon_config"]["state"].startswith(str(tmp_path / "out" / "demo"))
