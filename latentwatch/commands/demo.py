"""`latentwatch demo`: the main job end to end on the embedded default, with a summary a reliability engineer can check.

    latentwatch demo                         # conf/local.yaml, all 34 labelled SKAB runs
    latentwatch demo --runs 3 --epochs 5     # a quick one (what the test runs)

Steps, each printed as it happens:
  1. broker: use the one on the config's bootstrap address; if none answers and it is local, start it with
     ``scripts/kafka.sh start`` (and stop it at the end, only then);
  2. model: use the config's current artifact if it is a SKAB one; else (or with ``--retrain``) train one into the
     artifact root: SKAB's normal windows (window 10, stride 1, summary features), ``--epochs`` (default 30) epochs on
     one torch thread: measured 18 s of CPU for reading SKAB and the fit (73 s wall on a 2-core machine at load 8),
     so well under a minute idle (the time is printed);
  3. topics: create the input (4 partitions), alert (2) and dead-letter (1) topics when missing; if the consumer group
     has a backlog left by an earlier run, move its committed offsets to the end (refused while the group has live
     members: another daemon would share the partitions and the counts would mean nothing);
  4. daemon: ``latentwatch run --config <out>/demo/daemon.yaml`` as a child process. That file is ``--config``
     with two changes, both written into it: the threshold/episode checkpoint goes to ``<out>/demo/state/`` and starts
     empty (so every demo starts from the calibration fit, and a real daemon's state under var/state is untouched),
     and ``http.port`` moves to a free port when the configured one is taken;
  5. replay: one message of each dead-letter class the config allows (``daemon.replay.bad_message``), then the
     labelled SKAB runs through ``daemon.replay.replay`` (the replay producer), as fast as the producer goes
     (``--rate`` to pace it);
  6. wait (at most ``--timeout`` seconds) until the group's committed offsets reach the input topic's end offsets;
  7. read the daemon's /metrics, the alert topic and the dead-letter topic (from where they ended before the run),
     SIGTERM the daemon, check it exited 0, read its final checkpoint (episodes still open);
  8. print the summary and write it as JSON (``--out``, default out/demo.json).

Checks (exit 1 when one fails): consumed = scored + dead-lettered = messages produced; every injected bad message was
dead-lettered with its reason; the dead-letter topic holds exactly the dead letters the daemon counted; the alert topic
holds exactly the alerts it counted; committed offsets = end offsets; the daemon exited 0 on SIGTERM.
Exit 2: it could not run (no broker, no data, the group is in use, the daemon did not start).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

DEFAULT_EPOCHS = 30
INPUT_PARTITIONS, ALERT_PARTITIONS, DEAD_LETTER_PARTITIONS = 4, 2, 1
STALL_S = 120.0  # no commit progress for this long while behind: the daemon is stuck, say so


class DemoError(RuntimeError):
    """The demo could not run (exit 2); the message says what to do."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default="conf/local.yaml", metavar="FILE",
                   help="daemon YAML (default conf/local.yaml: the local broker, artifacts under var/artifacts)")
    p.add_argument("--out", default="out/demo.json", metavar="FILE",
                   help="summary JSON; the daemon's config, log and state go to <dir of FILE>/demo/")
    p.add_argument("--data-dir", help="shared data folder (default: $LATENTWATCH_DATA_DIR or ../shared/data)")
    p.add_argument("--retrain", action="store_true", help="train a new SKAB artifact even if one is current")
    p.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS,
                   help=f"training epochs when a model is trained (default {DEFAULT_EPOCHS}: ~20 s of CPU)")
    p.add_argument("--runs", type=int, help="replay only this many SKAB runs, evenly spread over the 34 "
                   "(default: all)")
    p.add_argument("--rate", type=float, help="replay windows per second (default: as fast as the producer goes)")
    p.add_argument("--timeout", type=float, default=900.0,
                   help="seconds to wait for the daemon to commit everything (default 900)")
    p.add_argument("--seed", type=int, default=0, help="training seed")


# -- small helpers --------------------------------------------------------------------------------------------------

def _say(msg: str) -> None:
    print(f"demo: {msg}", flush=True)


def _now() -> float:
    return time.monotonic()


def _total(offsets: dict[int, int]) -> int:
    return int(sum(offsets.values()))


def _segments(y: Any) -> list[tuple[int, int]]:
    """(first, last) window index of every contiguous labelled-anomalous span."""
    import numpy as np

    d = np.diff(np.concatenate([[0], np.asarray(y, dtype=np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), (np.flatnonzero(d == -1) - 1).tolist()))


# -- model ----------------------------------------------------------------------------------------------------------

def ensure_artifact(cfg: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The artifact the daemon will load (training one when needed); returns what the summary says about it."""
    from daemon.replay import read_manifest

    if cfg.artifact.path is not None:
        manifest = read_manifest(cfg.artifact.path)
        if manifest.get("source") != "skab":
            raise DemoError(f"artifact.path {cfg.artifact.path} holds a {manifest.get('source')} model; the demo "
                            "replays SKAB: use a config that follows an artifact root")
        if args.retrain:
            raise DemoError("--retrain with a pinned artifact.path: the daemon would not load the new model")
        return {"version": manifest["version"], "path": str(cfg.artifact.path), "trained_now": False,
                "source": "skab", "window": manifest.get("window"), "dim": manifest.get("dim")}
    root = Path(cfg.artifact.root)
    reason = "--retrain" if args.retrain else None
    if reason is None:
        try:
            manifest = read_manifest(root)
        except Exception:
            reason = f"no current artifact under {root}"
        else:
            if manifest.get("source") != "skab":
                reason = f"the current artifact under {root} is a {manifest.get('source')} model"
            else:
                from pipelines.artifact.store import resolve_current

                return {"version": manifest["version"], "path": str(resolve_current(root)), "trained_now": False,
                        "source": "skab", "window": manifest.get("window"), "dim": manifest.get("dim")}
    return train_artifact(root, args, reason)


def train_artifact(root: Path, args: argparse.Namespace, reason: str) -> dict[str, Any]:
    import torch

    from pipelines.sources import WindowSpec, normal_windows
    from pipelines.train import TrainSpec, fit_artifact

    torch.set_num_threads(1)  # a small MLP: one thread is as fast and does not fight the broker for the cores
    t0, c0 = _now(), time.process_time()
    window = WindowSpec()
    X = normal_windows("skab", args.data_dir, window)
    spec = TrainSpec(epochs=args.epochs)
    _say(f"model: {reason}; training a SKAB artifact into {root}: {len(X)} normal windows x {X.shape[1]} features, "
         f"{spec.epochs} epochs, hidden {list(spec.hidden)}, latent {spec.latent}, scorer {spec.scorer}, 1 torch thread")
    path = fit_artifact(X, root, spec, seed=args.seed, progress=False,
                        extra={"source": "skab", "window": window.to_dict(), "normal_class": 0})
    manifest = json.loads((path / "manifest.json").read_text())
    wall, cpu = _now() - t0, time.process_time() - c0
    _say(f"model: trained {manifest['version']} in {wall:.0f} s wall, {cpu:.0f} s CPU "
         f"(best epoch {manifest['metrics']['best_epoch']}, val loss {manifest['metrics']['best_val_loss']:.4g})")
    return {"version": manifest["version"], "path": str(path), "trained_now": True, "source": "skab",
            "window": manifest.get("window"), "dim": manifest.get("dim"), "reason": reason, "epochs": spec.epochs,
            "train_wall_s": round(wall, 1), "train_cpu_s": round(cpu, 1), "metrics": manifest["metrics"]}


# -- the daemon's config --------------------------------------------------------------------------------------------

def write_daemon_config(config: Path, work: Path, http_host: str, http_port: int) -> tuple[Path, dict[str, Any]]:
    """``config`` with the demo's two changes (fresh checkpoint under ``work``, a free HTTP port if needed)."""
    import yaml

    from daemon.bench_io import free_port, port_free

    doc = yaml.safe_load(config.read_text()) or {}
    changes: dict[str, Any] = {}
    state = (work / "state" / "daemon-state.json").absolute()
    if state.parent.exists():
        for f in state.parent.iterdir():
            f.unlink()
    doc.setdefault("threshold", {})["checkpoint_path"] = str(state)
    changes["threshold.checkpoint_path"] = str(state)
    http = doc.setdefault("http", {})
    if http.get("enabled", True) is False:
        http["enabled"] = True
        changes["http.enabled"] = True
    if not port_free(http_host, http_port):
        http["port"] = free_port()
        changes["http.port"] = f"{http['port']} ({http_port} is taken)"
    path = work / "daemon.yaml"
    path.write_text(f"# Written by `latentwatch demo` from {config}: the same settings except {', '.join(changes)}.\n"
                    + yaml.safe_dump(doc, sort_keys=False))
    return path, {"from": str(config), "changes": changes, "state": str(state), "http_port": int(http["port"])}


# -- what came out --------------------------------------------------------------------------------------------------

def episodes_from(alerts: list[dict[str, Any]], open_at_end: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Episode id -> the latest we know of it: from the alerts, completed by the final checkpoint's open episodes."""
    eps: dict[str, dict[str, Any]] = {}
    for a in alerts:
        ep = a.get("episode") or {}
        eid = ep.get("episode_id")
        if not eid:
            continue
        cur = eps.setdefault(eid, {"episode_id": eid, "asset": a["asset"], "opened_ts": ep.get("opened_ts"),
                                   "last_ts": ep.get("last_ts"), "n_alarms": 0, "max_score": None,
                                   "closed": False, "events": Counter()})
        cur["events"][ep.get("event")] += 1
        cur["last_ts"] = max(cur["last_ts"] or 0, ep.get("last_ts") or 0)
        cur["n_alarms"] = max(cur["n_alarms"], int(ep.get("n_alarms") or 0))
        if ep.get("max_score") is not None:
            cur["max_score"] = max(cur["max_score"] or float("-inf"), float(ep["max_score"]))
        if ep.get("event") == "close":
            cur["closed"] = True
    for asset, ep in (open_at_end or {}).items():
        cur = eps.setdefault(ep["episode_id"], {"episode_id": ep["episode_id"], "asset": asset,
                                                "opened_ts": ep["opened_ts"], "last_ts": ep["last_ts"],
                                                "n_alarms": 0, "max_score": None, "closed": False,
                                                "events": Counter()})
        cur["last_ts"] = max(cur["last_ts"] or 0, ep["last_ts"])
        cur["n_alarms"] = max(cur["n_alarms"], int(ep["n_alarms"]))
        cur["open_at_end"] = True
    return eps


def score_runs(streams: list[Any], episodes: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], dict]:
    """Per run: was its labelled anomaly segment overlapped by an episode (detected), and how many episodes lay
    entirely in normal windows (false). An episode spans [opened_ts, last alarm ts] in event time."""
    import numpy as np

    by_asset: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ep in episodes.values():
        by_asset[ep["asset"]].append(ep)
    runs, n_detected, n_with_anomaly, false_total, true_total = [], 0, 0, 0, 0
    normal_windows = 0
    for s in streams:
        ts, y = np.asarray(s.ts_ms, dtype=np.int64), np.asarray(s.y)
        segs = _segments(y)
        normal_windows += int((y == 0).sum())
        seg_hit = [None] * len(segs)
        n_false = n_true = 0
        for ep in sorted(by_asset.get(s.asset, []), key=lambda e: e["opened_ts"]):
            lo, hi = int(round(ep["opened_ts"] * 1000)), int(round(ep["last_ts"] * 1000))
            inside = (ts >= lo) & (ts <= hi)
            hit = False
            for j, (a, b) in enumerate(segs):
                if inside[a:b + 1].any():
                    hit = True
                    if seg_hit[j] is None:
                        seg_hit[j] = (lo - int(ts[a])) / 1000.0
            ep["true"] = hit
            n_true += hit
            n_false += not hit
        detected = bool(segs) and all(h is not None for h in seg_hit)
        n_with_anomaly += bool(segs)
        n_detected += detected
        false_total += n_false
        true_total += n_true
        runs.append({"asset": s.asset, "windows": int(len(y)), "anomalous_windows": int((y == 1).sum()),
                     "segments": len(segs), "segments_detected": sum(h is not None for h in seg_hit),
                     "detected": detected, "delay_s": seg_hit[0] if segs and seg_hit[0] is not None else None,
                     "episodes": n_true + n_false, "true_episodes": n_true, "false_episodes": n_false})
    totals = {"runs": len(runs), "runs_with_anomaly": n_with_anomaly, "runs_detected": n_detected,
              "detection_rate": round(n_detected / n_with_anomaly, 4) if n_with_anomaly else None,
              "episodes": len(episodes), "true_episodes": true_total, "false_episodes": false_total,
              "normal_windows": normal_windows,
              "false_episodes_per_1000_normal_windows": round(1000 * false_total / normal_windows, 3)
              if normal_windows else None}
    return runs, totals


# -- the run --------------------------------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    from latentwatch.config import ConfigError, load_config

    t_start = _now()
    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        print(f"latentwatch demo: {e}", file=sys.stderr)
        return 2
    out = Path(args.out)
    work = out.parent / "demo"
    work.mkdir(parents=True, exist_ok=True)
    bootstrap = cfg.kafka.bootstrap_servers[0]
    security = cfg.kafka.security.client_kwargs()
    started_broker = False
    try:
        from daemon.bench_io import ensure_broker

        started_broker = ensure_broker(bootstrap, security, say=_say)
        summary = _run(args, cfg, out, work, bootstrap, security, t_start, started_broker)
    except (DemoError, RuntimeError, TimeoutError, FileNotFoundError) as e:
        print(f"latentwatch demo: {e}", file=sys.stderr)
        return 2
    finally:
        if started_broker:
            from daemon.bench_io import stop_broker

            _say(f"broker: stopping the broker this demo started ({bootstrap})")
            stop_broker(bootstrap)
    return 0 if summary["ok"] else 1


def _run(args: argparse.Namespace, cfg: Any, out: Path, work: Path, bootstrap: str, security: dict[str, Any],
         t_start: float, started_broker: bool) -> dict[str, Any]:
    import orjson
    from kafka import KafkaProducer

    from daemon import checkpoint
    from daemon.bench_io import (DaemonProcess, committed, end_offsets, ensure_topics, group_members,
                                 metric_by_label, metric_sum, read_range, set_committed)
    from daemon.replay import BAD_KINDS, Plan, Window, bad_message, producer_settings, replay, usable_bad_kinds
    from pipelines.sources import WindowSpec, streams

    k = cfg.kafka
    timings: dict[str, float] = {}

    # 2. model
    t = _now()
    artifact = ensure_artifact(cfg, args)
    timings["model_s"] = round(_now() - t, 1)
    if not artifact["trained_now"]:
        _say(f"model: using {artifact['version']} ({artifact['path']}); --retrain to train a new one")

    # the labelled runs, cut with the model's window spec
    spec = WindowSpec(**artifact["window"]) if artifact.get("window") else WindowSpec()
    all_streams = streams("skab", args.data_dir, spec)
    chosen = all_streams
    if args.runs is not None:
        if not 1 <= args.runs <= len(all_streams):
            raise DemoError(f"--runs must be in 1..{len(all_streams)}, got {args.runs}")
        step = len(all_streams) / args.runs
        chosen = [all_streams[int(i * step)] for i in range(args.runs)]
    plan = Plan.build("skab", chosen)
    if artifact.get("dim") is not None and plan.dim != artifact["dim"]:
        raise DemoError(f"the SKAB windows have {plan.dim} values but the model expects {artifact['dim']}")

    # 3. topics and the group
    created = ensure_topics(bootstrap, {k.input_topic: INPUT_PARTITIONS, k.alert_topic: ALERT_PARTITIONS,
                                        k.dead_letter_topic: DEAD_LETTER_PARTITIONS}, security)
    _say(f"topics: {', '.join(created) + ' created' if created else 'all three exist'} "
         f"(input {k.input_topic}, alerts {k.alert_topic}, dead letters {k.dead_letter_topic})")
    members = group_members(bootstrap, k.group_id, security)
    if members:
        raise DemoError(f"consumer group {k.group_id!r} has {members} live member(s): another daemon is consuming "
                        f"{k.input_topic}. Stop it, or give --config with another kafka.group_id")
    start = end_offsets(bootstrap, k.input_topic, security)
    before = committed(bootstrap, k.group_id, k.input_topic, security)
    skipped = sum(max(0, o - before.get(p, 0)) for p, o in start.items())
    if any(before.get(p) != o for p, o in start.items()):
        set_committed(bootstrap, k.group_id, k.input_topic, start, security)
        if skipped:
            _say(f"topics: group {k.group_id} had {skipped} uncommitted messages from an earlier run on "
                 f"{k.input_topic}; moved its offsets to the end so this run counts only what it sends")
    alert_start = end_offsets(bootstrap, k.alert_topic, security)
    dead_start = end_offsets(bootstrap, k.dead_letter_topic, security)

    # 4. the daemon
    daemon_cfg, daemon_cfg_info = write_daemon_config(Path(cfg.source), work, cfg.http.host, cfg.http.port)
    log_path = work / "daemon.log"
    log_path.write_text("")
    daemon = DaemonProcess(daemon_cfg, log_path, daemon_cfg_info["http_port"])
    _say(f"daemon: {' '.join(daemon.command[1:])} (log {log_path}; "
         f"changes from {cfg.source.name}: {', '.join(f'{a}={b}' for a, b in daemon_cfg_info['changes'].items())})")
    daemon.start()
    try:
        ready_s = daemon.wait_consuming(timeout_s=300)
        _say(f"daemon: consuming after {ready_s:.1f} s (pid {daemon.pid}, metrics on "
             f"http://127.0.0.1:{daemon.http_port}/metrics)")
        timings["daemon_ready_s"] = round(ready_s, 1)

        # 5. replay: the bad ones first, then the labelled runs
        kinds, note = usable_bad_kinds(BAD_KINDS, cfg.dead_letter.max_bytes)
        producer = KafkaProducer(**producer_settings(list(k.bootstrap_servers), security))
        t = _now()
        try:
            bad_sent = []
            for i, kind in enumerate(kinds):
                st = plan.streams[i % len(plan.streams)]
                w = Window(st.asset, int(st.ts_ms[0]), st.X[0], int(st.y[0]), 0, 0)
                value = bad_message(kind, w, "skab", cfg.dead_letter.max_bytes + 1)
                md = producer.send(k.input_topic, key=st.asset.encode(), value=value).get(timeout=60)
                bad_sent.append({"kind": kind, "asset": st.asset, "partition": md.partition, "offset": md.offset})
            _say(f"replay: sent {len(bad_sent)} deliberately bad messages ({', '.join(kinds)})"
                 + (f"; {note}" if note else ""))
            _say(f"replay: {len(plan)} windows of {len(plan.streams)} SKAB runs -> {k.input_topic} "
                 f"({'as fast as possible' if args.rate is None else f'{args.rate:g}/s'})")
            report = replay(producer, k.input_topic, plan, rate=args.rate, progress=lambda r: _say(
                f"replay: {r.messages} sent, {r.acked} acked, {r.rate:.0f}/s"))
        finally:
            producer.close(timeout=30)
        timings["replay_s"] = round(_now() - t, 1)
        if report.errors:
            raise RuntimeError(f"the replay could not deliver {report.errors} messages: {report.first_error}")
        _say(f"replay: {report.windows} windows acknowledged in {report.seconds:.1f} s ({report.rate:.0f}/s)")

        # 6. wait until everything is committed
        end = end_offsets(bootstrap, k.input_topic, security)
        total = _total(end) - _total(start)
        t_wait, next_note = _now(), _now() + 10
        last_done, last_progress = -1, _now()
        from daemon.bench_io import admin_client

        with admin_client(bootstrap, security) as admin:
            while True:
                daemon.check_alive()
                now_c = committed(bootstrap, k.group_id, k.input_topic, admin=admin)
                done = sum(min(now_c.get(p, 0), e) - start.get(p, 0) for p, e in end.items())
                if all(now_c.get(p, 0) >= e for p, e in end.items() if e > 0):
                    break
                if done != last_done:
                    last_done, last_progress = done, _now()
                elif _now() - last_progress > STALL_S:
                    raise TimeoutError(f"the daemon stalled: {done} of {total} messages committed and no progress "
                                       f"for {STALL_S:.0f}s (/healthz: {daemon.health()}); its log: {log_path}")
                if _now() - t_wait > args.timeout:
                    raise TimeoutError(f"the daemon committed {done} of {total} messages within --timeout "
                                       f"{args.timeout:.0f}s; its log: {log_path}")
                if _now() >= next_note:
                    _say(f"waiting: {done} of {total} committed")
                    next_note += 10
                time.sleep(0.25)
        timings["caught_up_after_replay_s"] = round(_now() - t_wait, 1)
        final_committed = now_c
        _say(f"offsets: committed = end on every partition, {timings['caught_up_after_replay_s']:.1f} s after the "
             "replay finished")

        # 7. metrics (the counters settle right after the commit), topics, stop
        deadline = _now() + 15
        while True:
            m = daemon.metrics()
            consumed = metric_sum(m, "latentwatch_windows_consumed")
            scored = metric_sum(m, "latentwatch_windows_scored")
            dead = metric_sum(m, "latentwatch_dead_letters")
            if consumed == scored + dead and consumed >= total or _now() > deadline:
                break
            time.sleep(0.2)
        alerts_raw = read_range(bootstrap, k.alert_topic, alert_start, security=security)
        dead_raw = read_range(bootstrap, k.dead_letter_topic, dead_start, security=security)
        t = _now()
        rc = daemon.stop(timeout_s=cfg.shutdown_timeout_s + 60)
        timings["daemon_stop_s"] = round(_now() - t, 1)
        _say(f"daemon: SIGTERM -> exit {rc} after {timings['daemon_stop_s']:.1f} s")
    finally:
        daemon.kill()

    # 8. the summary
    state = checkpoint.load(Path(daemon_cfg_info["state"])) or {}
    open_at_end = (state.get("episodes") or {}).get("open") or {}
    alerts = [orjson.loads(r.value) for r in alerts_raw]
    alerts = [a for a in alerts if a.get("source") is None or a["source"].get("topic") == k.input_topic]
    dead_letters = []
    for r in dead_raw:
        h = {key: v.decode("utf-8", "replace") for key, v in r.headers}
        dead_letters.append({"reason": h.get("reason"), "partition": int(h.get("source_partition", -1)),
                             "offset": int(h.get("source_offset", -1)), "topic": h.get("source_topic")})
    dl_by_src = {(d["partition"], d["offset"]): d["reason"] for d in dead_letters if d["topic"] == k.input_topic}
    for b in bad_sent:
        b["dead_lettered_as"] = dl_by_src.get((b["partition"], b["offset"]))
        b["ok"] = b["dead_lettered_as"] == b["kind"]

    episodes = episodes_from(alerts, open_at_end)
    runs, detection = score_runs(plan.streams, episodes)
    dead_by_reason = {r: int(v) for r, v in sorted(metric_by_label(m, "latentwatch_dead_letters", "reason").items())
                      if v}
    alerts_by_event = {e: int(v) for e, v in sorted(metric_by_label(m, "latentwatch_alerts", "event").items())}
    produced = report.windows + len(bad_sent)
    checks = {
        "consumed_equals_scored_plus_dead_lettered": int(consumed) == int(scored) + int(dead),
        "consumed_equals_produced": int(consumed) == produced,
        "scored_equals_good_windows": int(scored) == report.windows,
        "bad_messages_dead_lettered_with_their_reason": all(b["ok"] for b in bad_sent),
        "dead_letter_topic_matches_metrics": len(dead_letters) == int(dead)
        and dict(sorted(Counter(d["reason"] for d in dead_letters).items())) == dead_by_reason,
        "alert_topic_matches_metrics": len(alerts) == sum(alerts_by_event.values()),
        "committed_equals_end": all(final_committed.get(p, 0) == e for p, e in end.items() if e > 0),
        "daemon_exit_0": rc == 0,
    }
    summary = {
        "ok": all(checks.values()),
        "checks": checks,
        "config": str(cfg.source),
        "daemon_config": {"path": str(daemon_cfg), **daemon_cfg_info, "log": str(log_path)},
        "broker": {"bootstrap": bootstrap, "started_by_demo": started_broker},
        "topics": {"input": k.input_topic, "alerts": k.alert_topic, "dead_letter": k.dead_letter_topic,
                   "group": k.group_id},
        "artifact": artifact,
        "replay": {**report.summary(), "runs": len(plan.streams), "bad_messages": bad_sent,
                   "bad_kinds_left_out": note},
        "daemon": {"consumed": int(consumed), "scored": int(scored), "dead_lettered": int(dead),
                   "dead_lettered_by_reason": dead_by_reason, "alarms": int(metric_sum(m, "latentwatch_alarms")),
                   "alerts_by_event": alerts_by_event, "commits": int(metric_sum(m, "latentwatch_commits")),
                   "exit_code": rc},
        "offsets": {"start": {str(p): o for p, o in sorted(start.items())},
                    "end": {str(p): o for p, o in sorted(end.items())},
                    "committed": {str(p): o for p, o in sorted(final_committed.items())},
                    "messages": total},
        "topics_read": {"alerts": len(alerts), "dead_letters": len(dead_letters),
                        "dead_letters_by_reason": dict(sorted(Counter(d["reason"] for d in dead_letters).items()))},
        "episodes": {"total": len(episodes), "overlapping_a_labelled_anomaly": detection["true_episodes"],
                     "in_normal_spans": detection["false_episodes"],
                     "open_at_end": sum(1 for e in episodes.values() if e.get("open_at_end"))},
        "detection": detection,
        "runs": runs,
        "timings": {**timings, "total_s": round(_now() - t_start, 1)},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, default=lambda o: dict(o) if isinstance(o, Counter) else str(o))
                   + "\n")
    print(render(summary, out), flush=True)
    return summary


def _mark(ok: bool) -> str:
    return "ok" if ok else "FAILED"


def render(s: dict[str, Any], out: Path) -> str:
    c, d, a, r, det = s["checks"], s["daemon"], s["artifact"], s["replay"], s["detection"]
    trained = (f"trained now: {a['epochs']} epochs, {a['train_wall_s']:.0f} s wall, {a['train_cpu_s']:.0f} s CPU"
               if a["trained_now"] else "already there")
    dl = ", ".join(f"{k} {v}" for k, v in d["dead_lettered_by_reason"].items()) or "none"
    ev = d["alerts_by_event"]
    lines = [
        "",
        f"latentwatch demo: {'every check passed' if s['ok'] else 'SOME CHECKS FAILED'} "
        f"({s['timings']['total_s']:.0f} s)",
        f"  broker      {s['broker']['bootstrap']} "
        f"({'started by the demo, stopped at the end' if s['broker']['started_by_demo'] else 'already running'})",
        f"  artifact    {a['version']} (SKAB, {trained})",
        f"  daemon      latentwatch run --config {s['daemon_config']['path']}; SIGTERM -> exit {d['exit_code']} "
        f"[{_mark(c['daemon_exit_0'])}]",
        f"  replayed    {r['windows']} windows of {r['runs']} labelled SKAB runs + {len(r['bad_messages'])} bad "
        f"messages -> {s['topics']['input']} in {r['seconds']:.1f} s ({r['rate']:.0f}/s)",
        f"  consumed    {d['consumed']} = scored {d['scored']} + dead-lettered {d['dead_lettered']} "
        f"[{_mark(c['consumed_equals_scored_plus_dead_lettered'] and c['consumed_equals_produced'])}]",
        f"  dead-letter {dl}; each bad message dead-lettered with its reason "
        f"[{_mark(c['bad_messages_dead_lettered_with_their_reason'] and c['dead_letter_topic_matches_metrics'])}]"
        + (f"\n              ({r['bad_kinds_left_out']})" if r.get("bad_kinds_left_out") else ""),
        f"  offsets     committed = end offsets on all {len(s['offsets']['end'])} partitions, "
        f"{s['offsets']['messages']} messages this run [{_mark(c['committed_equals_end'])}]; caught up "
        f"{s['timings'].get('caught_up_after_replay_s', 0):.1f} s after the replay",
        f"  alarms      {d['alarms']} windows above their threshold -> {sum(ev.values())} alerts (open "
        f"{ev.get('open', 0)}, update {ev.get('update', 0)}, close {ev.get('close', 0)}) "
        f"[{_mark(c['alert_topic_matches_metrics'])}]",
        f"  episodes    {s['episodes']['total']}: {s['episodes']['overlapping_a_labelled_anomaly']} overlap a labelled "
        f"anomaly, {s['episodes']['in_normal_spans']} lie in normal spans (false); "
        f"{s['episodes']['open_at_end']} still open at the end",
        f"  detection   {det['runs_detected']} of {det['runs_with_anomaly']} runs had their anomaly segment detected"
        + (f" ({100 * det['detection_rate']:.0f}%)" if det["detection_rate"] is not None else "")
        + f"; {det['false_episodes']} false episodes over {det['normal_windows']} normal windows",
        "",
        f"  {'run':<16} {'windows':>7} {'anomalous':>9} {'detected':>8} {'delay_s':>8} {'episodes':>8} "
        f"{'false':>5}",
    ]
    for run_ in s["runs"]:
        delay = "" if run_["delay_s"] is None else f"{run_['delay_s']:+.0f}"
        lines.append(f"  {run_['asset']:<16} {run_['windows']:>7} {run_['anomalous_windows']:>9} "
                     f"{'yes' if run_['detected'] else 'no':>8} {delay:>8} {run_['episodes']:>8} "
                     f"{run_['false_episodes']:>5}")
    lines += ["",
              "  delay_s: first episode overlapping the labelled segment opened this long after the segment's first "
              "window (negative: before it)",
              f"  summary JSON: {out}; daemon log: {s['daemon_config']['log']}", ""]
    return "\n".join(lines)
