"""The demo's set-up on the broker and for the daemon: its three topics, a consumer group with no backlog, and the
daemon's config (the given one with a fresh checkpoint and a free HTTP port)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from latentwatch.demo import DemoError, say

INPUT_PARTITIONS, ALERT_PARTITIONS, DEAD_LETTER_PARTITIONS = 4, 2, 1


def prepare_topics(k: Any, bootstrap: str, security: dict[str, Any]) -> dict[str, dict[int, int]]:
    """Create the missing topics, refuse a group that has live members, move a backlog left by an earlier run past
    the end. Returns where each topic ends now: {"input": ..., "alerts": ..., "dead": ...} (partition -> offset)."""
    from latentwatch.kafka.admin import committed, end_offsets, ensure_topics, group_members, set_committed

    created = ensure_topics(
        bootstrap,
        {k.input_topic: INPUT_PARTITIONS, k.alert_topic: ALERT_PARTITIONS, k.dead_letter_topic: DEAD_LETTER_PARTITIONS},
        security,
    )
    say(
        f"topics: {', '.join(created) + ' created' if created else 'all three exist'} "
        f"(input {k.input_topic}, alerts {k.alert_topic}, dead letters {k.dead_letter_topic})"
    )
    members = group_members(bootstrap, k.group_id, security)
    if members:
        raise DemoError(
            f"consumer group {k.group_id!r} has {members} live member(s): another daemon is consuming "
            f"{k.input_topic}. Stop it, or give --config with another kafka.group_id"
        )
    start = end_offsets(bootstrap, k.input_topic, security)
    before = committed(bootstrap, k.group_id, k.input_topic, security)
    skipped = sum(max(0, o - before.get(p, 0)) for p, o in start.items())
    if any(before.get(p) != o for p, o in start.items()):
        set_committed(bootstrap, k.group_id, k.input_topic, start, security)
        if skipped:
            say(
                f"topics: group {k.group_id} had {skipped} uncommitted messages from an earlier run on "
                f"{k.input_topic}; moved its offsets to the end so this run counts only what it sends"
            )
    return {
        "input": start,
        "alerts": end_offsets(bootstrap, k.alert_topic, security),
        "dead": end_offsets(bootstrap, k.dead_letter_topic, security),
    }


def write_daemon_config(
    config: Path,
    work: Path,
    http_host: str,
    http_port: int,
    skab: dict[str, Any] | None = None,
    artifact_root: Path | None = None,
) -> tuple[Path, dict[str, Any]]:
    """``config`` with the demo's changes (fresh checkpoint under ``work``, a free HTTP port if needed; for the
    deployment shape, ``skab``: the SKAB evaluation's settings the artifact was trained with, whose threshold,
    persistence and episode settings the daemon must run to decide as ``latentwatch evaluate --protocol skab``;
    ``artifact_root``: the root the daemon follows instead of the config's, the synthetic plant's)."""
    import yaml

    from latentwatch.daemon_process import free_port, port_free

    doc = yaml.safe_load(config.read_text()) or {}
    changes: dict[str, Any] = {}
    state = (work / "state" / "daemon-state.json").absolute()
    if state.parent.exists():
        for f in state.parent.iterdir():
            f.unlink()
    doc.setdefault("threshold", {})["checkpoint_path"] = str(state)
    changes["threshold.checkpoint_path"] = str(state)
    for (section, key), value in skab_daemon_settings(skab).items() if skab else ():
        doc.setdefault(section, {})[key] = value
        changes[f"{section}.{key}"] = value
    if artifact_root is not None:
        art = doc.setdefault("artifact", {})
        art.pop("path", None)
        art["root"] = str(Path(artifact_root).absolute())
        changes["artifact.root"] = art["root"]
    http = doc.setdefault("http", {})
    if http.get("enabled", True) is False:
        http["enabled"] = True
        changes["http.enabled"] = True
    if not port_free(http_host, http_port):
        http["port"] = free_port()
        changes["http.port"] = f"{http['port']} ({http_port} is taken)"
    path = work / "daemon.yaml"
    path.write_text(
        f"# Written by `latentwatch demo` from {config}: the same settings except {', '.join(changes)}.\n"
        + yaml.safe_dump(doc, sort_keys=False)
    )
    return path, {"from": str(config), "changes": changes, "state": str(state), "http_port": int(http["port"])}


def skab_daemon_settings(s: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """The daemon's config keys for the SKAB evaluation's decision settings (``SkabSettings.to_dict()``): what
    ``pipelines.evaluate.skab.protocol.stream_file`` builds its bank, persistence and episode tracker from."""
    return {
        ("threshold", "method"): s["method"],
        ("threshold", "q"): s["q"],
        ("threshold", "level"): s["level"],
        ("threshold", "persist_m"): s["m"],
        ("threshold", "persist_n"): s["n"],
        ("threshold", "release_windows"): s["release"],
        ("episodes", "quiet_windows"): s["quiet_windows"],
        ("episodes", "quiet_seconds"): s["quiet_seconds"],
        ("episodes", "max_duration_s"): s["max_duration_s"],
    }


def missing_data(data_dir: str | None) -> str | None:
    """None when SKAB's files are there; else what to do: where the data comes from, how to point at it, and
    --synthetic."""
    from pipelines.data import DataError, load_skab_anomaly_free, load_skab_runs

    try:
        load_skab_anomaly_free(data_dir)
        load_skab_runs(data_dir)
    except (DataError, FileNotFoundError) as e:
        return (
            f"latentwatch demo: the SKAB data set is not here ({e}).\n"
            "  Where to get it: SKAB, the Skoltech Anomaly Benchmark (https://github.com/waico/SKAB, folder data/, "
            "GPL-3.0): its\n"
            "  anomaly-free/, valve1/, valve2/ and other/ folders go under <data>/skab/ unchanged (each data set's "
            "SOURCE.md\n"
            "  in the shared data folder names the repository and commit it was copied from).\n"
            "  How to point at it: --data-dir <data>, or LATENTWATCH_DATA_DIR=<data>, or put it at ../shared/data "
            "beside the repo.\n"
            "  Without any data: latentwatch demo --synthetic (scripts/demo.sh --synthetic) runs the same chain on a "
            "simulated\n"
            "  plant with labelled faults."
        )
    return None
