"""Where the daemon's time goes: cProfile's cumulative times of the main thread, and py-spy's samples of every
thread split into the chain's parts."""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path
from typing import Any

from latentwatch.bench.e2e.harness import daemon_pass, make_topics, produce_up_front, say
from latentwatch.bench.e2e.latency import ALERT_EVERY_WINDOW, alert_plan

# (label, file suffix, function name): cumulative time of the main thread spent in each; they do not overlap except
# as noted in `profile_breakdown`.
PROFILE_PARTS = (
    ("consumer poll (fetch, CRC, record parsing)", "kafka/consumer/group.py", "poll"),
    ("decode + validate", "daemon/wire/records.py", "decode_batch"),
    ("dead-letter sends", "daemon/steps/decode.py", "submit"),  # minus decode_batch and the rest of the chain
    ("scoring (OnlineModel.score)", "pipelines/online.py", "score"),
    ("thresholds (ThresholdBank.process)", "pipelines/threshold/bank.py", "process"),
    ("alert policy (episodes + alert JSON)", "daemon/steps/alert_policy.py", "_window_alerts"),
    ("alert policy: watermark sweep", "daemon/steps/alert_policy.py", "_sweep"),
    ("producer sends (alerts)", "daemon/steps/sink.py", "submit"),  # minus the commit step
    ("commit: producer flush", "daemon/steps/commit.py", "_flush"),
    ("commit: offset commit", "daemon/loop.py", "commit"),
    ("metrics after commit", "daemon/service.py", "_on_committed"),
    ("batching (offsets per batch)", "daemon/batch.py", "next_offsets"),
    ("backpressure", "daemon/loop.py", "_backpressure"),
    ("checkpoint", "daemon/service.py", "save_checkpoint"),
)


# For the sampler: (label, file suffix, function), the innermost match on a stack wins, so each sample counts once.
SAMPLE_PARTS = PROFILE_PARTS + (
    # inside the alert policy
    ("alert policy: episode tracker", "pipelines/episodes/episodes.py", "observe"),
    ("alert policy: episode fields", "pipelines/episodes/episodes.py", "alert_fields"),
    ("alert policy: alert JSON (build_alert)", "daemon/wire/alert.py", "build_alert"),
    ("log lines (structlog, JSON to stderr)", "/structlog/", "*"),
)


def _frame_matches(frame: str, suffix: str, func: str) -> bool:
    # py-spy frames read "Class.function (/path/to/file.py:line)" (--full-filenames); func "*": any function of a
    # file whose path contains ``suffix``
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    if func == "*":
        return suffix in path
    return name.rsplit(".", 1)[-1] == func and path.endswith(suffix)


_WAITING = ("select", "wait", "_wait_for_tstate_lock", "acquire", "sleep", "accept", "recv_into")


BACKGROUND = (
    "kafka-python threads (network IO, producer sender, heartbeat)",
    "worker threads (native code, e.g. the reference search's pool)",
    "http server thread",
)


def _waiting(frame: str) -> bool:
    name = frame.partition(" (")[0].rsplit(".", 1)[-1]
    return name in _WAITING


def sampled_breakdown(raw: Path, windows: int) -> dict[str, Any]:
    """CPU per window by part, from py-spy's samples (``--format raw``: one "frame;frame;... count" line per stack,
    root first). py-spy ``--nonblocking`` cannot tell a waiting thread from a running one, so a sample whose innermost
    frame is a wait (select, Condition.wait, lock acquire, sleep) counts as waiting, not CPU. Samples in the main
    loop go to the innermost named part; other threads by what they run; start-up (imports, model load) apart."""
    counts: dict[str, int] = {label: 0 for label, _, _ in SAMPLE_PARTS}
    counts.update(
        {
            "other in the loop (batcher, glue)": 0,
            **{b: 0 for b in BACKGROUND},
            "start-up and shutdown (imports, model load, drain)": 0,
        }
    )
    waiting = {"main loop waiting (IO thread, worker threads)": 0, "other threads waiting": 0}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        frames, n = [f for f in stack.split(";") if f.strip()], int(n)
        total += n
        in_loop = any(_frame_matches(f, "daemon/service.py", "_turn") for f in frames)
        is_thread = any("threading.py" in f and "_bootstrap" in f for f in frames[:2])
        if frames and _waiting(frames[-1]):
            waiting["main loop waiting (IO thread, worker threads)" if in_loop else "other threads waiting"] += n
            continue
        if in_loop:
            label = "other in the loop (batcher, glue)"
            for f in frames:  # root first: the last match is the innermost
                for part, suffix, func in SAMPLE_PARTS:
                    if _frame_matches(f, suffix, func):
                        label = part
            counts[label] += n
        elif is_thread or not frames:
            joined = ";".join(frames)
            counts[
                BACKGROUND[0] if "/kafka/" in joined else BACKGROUND[2] if "socketserver" in joined else BACKGROUND[1]
            ] += n
        else:
            counts["start-up and shutdown (imports, model load, drain)"] += n
    loop_parts = [label for label, _, _ in SAMPLE_PARTS] + ["other in the loop (batcher, glue)"]
    loop_total = sum(counts[k] for k in loop_parts)
    # A sample is wall time in which the thread was alive and not waiting: on a busy machine that includes time it
    # was runnable but not scheduled, so the absolute numbers are wall, not CPU; the shares are what to read.
    return {
        "samples": total,
        "rate_hz": 200,
        "windows": windows,
        "share_of_loop": {k: round(counts[k] / loop_total, 3) for k in loop_parts} if loop_total else {},
        "sampled_us_per_window": {k: round(1e6 * v / 200 / windows, 1) for k, v in counts.items()},
        "waiting_us_per_window": {k: round(1e6 * v / 200 / windows, 1) for k, v in waiting.items()},
    }


def cpu_by_part(sampled: dict[str, Any], cpu_s: dict[str, float], windows: int) -> dict[str, float]:
    """CPU microseconds per window by part: the main thread's CPU (from /proc) split by the sampled shares of the
    loop, plus the other threads' CPU as one line."""
    main_us = 1e6 * cpu_s.get("main", 0.0) / windows
    out = {k: round(v * main_us, 1) for k, v in sampled["share_of_loop"].items()}
    other_us = 1e6 * cpu_s.get("other", 0.0) / windows
    seen = {k: sampled["sampled_us_per_window"].get(k, 0.0) for k in BACKGROUND}
    for k, v in seen.items():  # the other threads' CPU, split by their sampled shares
        out[k] = round(other_us * v / sum(seen.values()), 1) if sum(seen.values()) else 0.0
    if not sum(seen.values()):
        out["other threads"] = round(other_us, 1)
    return out


def profile_breakdown(prof: Path, windows: int) -> dict[str, Any]:
    import pstats

    st = pstats.Stats(str(prof))
    table = st.stats  # (file, line, func) -> (cc, nc, tt, ct, callers)

    st.calc_callees()
    roots = [key for key in table if key[2] == "_turn" and key[0].endswith("daemon/service.py")]
    under, todo = set(roots), list(roots)
    while todo:  # every function the loop reaches (start-up and imports left out)
        for callee in st.all_callees.get(todo.pop(), {}):
            if callee not in under:
                under.add(callee)
                # not through built-ins or the import system: what they call (hasattr -> a lazy import -> ...
                # -> the whole start-up) would put start-up's calls in the loop
                if callee[0] != "~" and not callee[0].startswith("<frozen"):
                    todo.append(callee)

    def cum(suffix: str, func: str) -> float:
        """Cumulative time of the calls made from inside the loop. The model's warm-up score is not the loop's (it
        calls the same OnlineModel.score): pstats merges the start-up warm-up with any in the loop (a hot swap), and
        the start-up one, which builds the explanation's per-reference gains, would count as the loop's scoring."""
        return sum(
            ct
            for (f, _, fn), v in table.items()
            if fn == func and f.endswith(suffix)
            for caller, (_, _, _, ct) in v[4].items()
            if caller in under and caller[2] != "warm_up"
        )

    loop = sum(table[key][3] for key in roots)
    parts = {label: cum(suffix, fn) for label, suffix, fn in PROFILE_PARTS}
    # nested ones: report each step's own share
    parts["dead-letter sends"] = max(
        0.0, parts["dead-letter sends"] - parts["decode + validate"] - cum("daemon/steps/score.py", "submit")
    )
    parts["producer sends (alerts)"] = max(
        0.0, parts["producer sends (alerts)"] - cum("daemon/steps/commit.py", "submit")
    )
    known = sum(parts.values())
    parts["other (loop, batcher, glue)"] = max(0.0, loop - known)
    top = sorted(
        ((table[key][2], f"{Path(key[0]).name}:{key[1]}({key[2]})", table[key][1]) for key in under), reverse=True
    )[:20]
    return {
        "main_thread_loop_s": round(loop, 3),
        "windows": windows,
        "us_per_window": {k: round(1e6 * v / windows, 1) for k, v in parts.items()},
        "share": {k: round(v / loop, 3) if loop else None for k, v in parts.items()},
        "top_self_time": [{"function": name, "self_s": round(tt, 3), "calls": calls} for tt, name, calls in top],
    }


def find_py_spy(choice: str) -> str | None:
    import shutil

    if choice == "no":
        return None
    found = shutil.which("py-spy") or next(
        (str(p) for p in [Path(sys.executable).parent / "py-spy"] if p.is_file()), None
    )
    if found is None and choice == "yes":
        raise RuntimeError("--py-spy yes, but py-spy is not installed (uv pip install py-spy)")
    return found


def alert_path_profile(
    args: argparse.Namespace,
    base_cfg: Path,
    work: Path,
    bootstrap: str,
    security: dict[str, Any],
    artifact: Path,
    spec: Any,
    topics_made: list[str],
    spy_bin: str,
) -> dict[str, Any] | None:
    """Where the CPU of the alert path goes: up to 30,000 always-alarming windows produced up front, one daemon
    consuming them all under py-spy (as the throughput pass, with the every-window-alerting config)."""

    n = min(args.windows, 30_000)
    run_id = uuid.uuid4().hex[:8]
    topics = make_topics(bootstrap, security, run_id, "-ap", topics_made)
    produce_up_front(bootstrap, security, topics["input"], alert_plan(args, spec), n)
    raw = work / "daemon-alert-path.py-spy.txt"
    raw.unlink(missing_ok=True)
    say(f"profile: {n} always-alarming windows through one daemon under py-spy -> {raw}")
    run = daemon_pass(
        "alert-path",
        base_cfg,
        work,
        bootstrap,
        topics,
        run_id,
        artifact,
        n,
        args.timeout,
        sections=ALERT_EVERY_WINDOW,
        py_spy=(spy_bin, raw),
    )
    if not raw.is_file():
        return None
    sampled = sampled_breakdown(raw, n)
    return {"path": str(raw), "run": run, **sampled, "cpu_us_per_window": cpu_by_part(sampled, run["cpu_s"], n)}
