"""`latentwatch demo`: the main job end to end on the embedded default (the steps and checks: latentwatch/demo)."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from latentwatch.demo import DemoError, now, say, synthetic
from latentwatch.demo.live import close_live, start_live
from latentwatch.demo.model import ensure_artifact
from latentwatch.demo.outcome import dead_letters_from, episodes_from, match_bad_messages, reasons, score_runs
from latentwatch.demo.prepare import missing_data, prepare_topics, write_daemon_config
from latentwatch.demo.report import render
from latentwatch.demo.skab_scores import scores as skab_scores
from latentwatch.demo.skab_scores import test_part
from latentwatch.demo.traffic import send, settled_metrics, wait_committed


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        default="conf/local.yaml",
        metavar="FILE",
        help="daemon YAML (default conf/local.yaml: the local broker, artifacts under var/artifacts)",
    )
    p.add_argument(
        "--out",
        default="out/demo.json",
        metavar="FILE",
        help="summary JSON; the daemon's config, log and state go to <dir of FILE>/demo/",
    )
    p.add_argument("--data-dir", help="shared data folder (default: $LATENTWATCH_DATA_DIR or ../shared/data)")
    p.add_argument("--retrain", action="store_true", help="train a new SKAB artifact even if one is current")
    p.add_argument(
        "--epochs",
        type=int,
        help="training epochs when a model is trained (default: the SKAB evaluation's, "
        "pipelines/evaluate/skab/settings.py, with its early stopping)",
    )
    p.add_argument("--runs", type=int, help="replay only this many SKAB runs, evenly spread over the 34 (default: all)")
    p.add_argument("--rate", type=float, help="replay windows per second (default: as fast as the producer goes)")
    p.add_argument(
        "--timeout", type=float, default=900.0, help="seconds to wait for the daemon to commit everything (default 900)"
    )
    p.add_argument("--seed", type=int, default=0, help="training seed (and with --synthetic, the plant's)")
    p.add_argument(
        "--synthetic",
        action="store_true",
        help="no data sets needed: replay a simulated plant (4 pumps x 8 correlated sensors, daily cycles, injected "
        "step, drift, stuck-sensor and spike-burst faults) instead of SKAB (latentwatch/demo/synthetic.py)",
    )
    p.add_argument(
        "--plant-days",
        type=float,
        metavar="DAYS",
        help="with --synthetic: days of plant traffic streamed per asset after its fault-free first day (default 2)",
    )
    p.add_argument(
        "--live",
        choices=("auto", "table", "lines", "off"),
        default="auto",
        help="the live alert view while the demo runs: a redrawn table on a terminal, one line per alert otherwise "
        "(auto, the default), or off",
    )


def run(args: argparse.Namespace) -> int:
    from daemon.config import ConfigError, load_config

    t_start = now()
    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        print(f"latentwatch demo: {e}", file=sys.stderr)
        return 2
    if args.plant_days is not None and not args.synthetic:
        print("latentwatch demo: --plant-days is for --synthetic", file=sys.stderr)
        return 2
    if args.runs is not None and args.synthetic:
        print("latentwatch demo: --runs picks SKAB runs; with --synthetic, --plant-days sets the size", file=sys.stderr)
        return 2
    if not args.synthetic:
        missing = missing_data(args.data_dir)
        if missing:
            print(missing, file=sys.stderr)
            return 2
    out = Path(args.out)
    work = out.parent / "demo"
    work.mkdir(parents=True, exist_ok=True)
    bootstrap = cfg.kafka.bootstrap_servers[0]
    security = cfg.kafka.security.client_kwargs()
    started_broker = False
    try:
        from latentwatch.kafka.broker import ensure_broker

        started_broker = ensure_broker(bootstrap, security, say=say)
        summary = _run(args, cfg, out, work, bootstrap, security, t_start, started_broker)
    except (DemoError, RuntimeError, TimeoutError, FileNotFoundError) as e:
        print(f"latentwatch demo: {e}", file=sys.stderr)
        return 2
    finally:
        if started_broker:
            from latentwatch.kafka.broker import stop_broker

            say(f"broker: stopping the broker this demo started ({bootstrap})")
            stop_broker(bootstrap)
    return 0 if summary["ok"] else 1


def _spec(artifact: dict[str, Any]) -> Any:
    from pipelines.sources import WindowSpec

    return WindowSpec(**artifact["window"]) if artifact.get("window") else WindowSpec()


def _plan(args: argparse.Namespace, artifact: dict[str, Any]) -> Any:
    """The labelled SKAB runs (all, or --runs of them evenly spread), cut with the model's window spec."""
    from latentwatch.replay import Plan
    from pipelines.sources import streams

    spec = _spec(artifact)
    all_streams = streams("skab", args.data_dir, spec)
    chosen = all_streams
    if args.runs is not None:
        if not 1 <= args.runs <= len(all_streams):
            raise DemoError(f"--runs must be in 1..{len(all_streams)}, got {args.runs}")
        step = len(all_streams) / args.runs
        chosen = [all_streams[int(i * step)] for i in range(args.runs)]
    if artifact.get("asset_normals"):  # the deployment shape: each run's first rows are its normal, not streamed
        chosen = test_part(chosen, spec)
    plan = Plan.build("skab", chosen)
    if artifact.get("dim") is not None and plan.dim != artifact["dim"]:
        raise DemoError(f"the SKAB windows have {plan.dim} values but the model expects {artifact['dim']}")
    return plan


def _run(
    args: argparse.Namespace,
    cfg: Any,
    out: Path,
    work: Path,
    bootstrap: str,
    security: dict[str, Any],
    t_start: float,
    started_broker: bool,
) -> dict[str, Any]:
    import orjson

    from daemon import checkpoint
    from latentwatch.daemon_process import DaemonProcess, metric_by_label, metric_sum
    from latentwatch.kafka.admin import end_offsets, read_range

    k = cfg.kafka
    timings: dict[str, float] = {}

    # 2. model
    t = now()
    plant = synthetic.make_plant(synthetic.plant_spec(args)) if args.synthetic else None
    artifact = ensure_artifact(cfg, args) if plant is None else synthetic.ensure_artifact(cfg, args, plant)
    timings["model_s"] = round(now() - t, 1)
    if not artifact["trained_now"]:
        say(f"model: using {artifact['version']} ({artifact['path']}); --retrain to train a new one")
    plan = _plan(args, artifact) if plant is None else synthetic.plan(plant, args)

    # 3. topics and the group
    starts = prepare_topics(k, bootstrap, security)
    start = starts["input"]

    # 4. the daemon
    daemon_cfg, daemon_cfg_info = write_daemon_config(
        Path(cfg.source),
        work,
        cfg.http.host,
        cfg.http.port,
        skab=artifact.get("settings"),
        artifact_root=Path(artifact["root"]) if args.synthetic else None,
    )
    log_path = work / "daemon.log"
    log_path.write_text("")
    daemon = DaemonProcess(daemon_cfg, log_path, daemon_cfg_info["http_port"])
    say(
        f"daemon: {' '.join(daemon.command[1:])} (log {log_path}; "
        f"changes from {cfg.source.name}: {', '.join(f'{a}={b}' for a, b in daemon_cfg_info['changes'].items())})"
    )
    live = None
    daemon.start()
    try:
        ready_s = daemon.wait_consuming(timeout_s=300)
        say(
            f"daemon: consuming after {ready_s:.1f} s (pid {daemon.pid}, metrics on "
            f"http://127.0.0.1:{daemon.http_port}/metrics)"
        )
        timings["daemon_ready_s"] = round(ready_s, 1)
        live = start_live(args.live, cfg, bootstrap, security, starts["alerts"], daemon, len(plan))

        # 5. replay: the bad ones first, then the labelled runs
        t = now()
        bad_sent, report, note = send(
            cfg, plan, args.rate, security, on_sent=(lambda n: live[0].update(sent=n)) if live else None
        )
        timings["replay_s"] = round(now() - t, 1)

        # 6. wait until everything is committed
        end = end_offsets(bootstrap, k.input_topic, security)
        total = int(sum(end.values())) - int(sum(start.values()))
        t = now()
        final_committed = wait_committed(daemon, k, bootstrap, security, start, end, args.timeout)
        timings["caught_up_after_replay_s"] = round(now() - t, 1)
        say(
            f"offsets: committed = end on every partition, {timings['caught_up_after_replay_s']:.1f} s after the "
            "replay finished"
        )

        # 7. metrics (the counters settle right after the commit), topics, stop
        m = settled_metrics(daemon, total)
        consumed = metric_sum(m, "latentwatch_windows_consumed")
        scored = metric_sum(m, "latentwatch_windows_scored")
        dead = metric_sum(m, "latentwatch_dead_letters")
        alerts_raw = read_range(bootstrap, k.alert_topic, starts["alerts"], security=security)
        dead_raw = read_range(bootstrap, k.dead_letter_topic, starts["dead"], security=security)
        if live:
            view_ = live
            live = None
            close_live(view_, end_offsets(bootstrap, k.alert_topic, security))
        t = now()
        rc = daemon.stop(timeout_s=cfg.shutdown_timeout_s + 60)
        timings["daemon_stop_s"] = round(now() - t, 1)
        say(f"daemon: SIGTERM -> exit {rc} after {timings['daemon_stop_s']:.1f} s")
    finally:
        try:
            if live:
                close_live(live, None)
        finally:
            daemon.kill()

    # 8. the summary
    state = checkpoint.load(Path(daemon_cfg_info["state"])) or {}
    open_at_end = (state.get("episodes") or {}).get("open") or {}
    alerts = [orjson.loads(r.value) for r in alerts_raw]
    alerts = [a for a in alerts if a.get("source") is None or a["source"].get("topic") == k.input_topic]
    dead_letters = dead_letters_from(dead_raw)
    match_bad_messages(bad_sent, dead_letters, k.input_topic)

    episodes = episodes_from(alerts, open_at_end)
    runs, detection = score_runs(plan.streams, episodes)
    skab = (
        skab_scores(plan.streams, episodes, _spec(artifact), args.data_dir)
        if artifact.get("asset_normals") and not args.synthetic
        else None
    )
    plant_scores = None if plant is None else synthetic.scores(plant, episodes, alerts, synthetic.settings(args))
    dead_by_reason = {
        r: int(v) for r, v in sorted(metric_by_label(m, "latentwatch_dead_letters", "reason").items()) if v
    }
    alerts_by_event = {e: int(v) for e, v in sorted(metric_by_label(m, "latentwatch_alerts", "event").items())}
    produced = report.windows + len(bad_sent)
    checks = {
        "consumed_equals_scored_plus_dead_lettered": int(consumed) == int(scored) + int(dead),
        "consumed_equals_produced": int(consumed) == produced,
        "scored_equals_good_windows": int(scored) == report.windows,
        "bad_messages_dead_lettered_with_their_reason": all(b["ok"] for b in bad_sent),
        "dead_letter_topic_matches_metrics": len(dead_letters) == int(dead) and reasons(dead_letters) == dead_by_reason,
        "alert_topic_matches_metrics": len(alerts) == sum(alerts_by_event.values()),
        "committed_equals_end": all(final_committed.get(p, 0) == e for p, e in end.items() if e > 0),
        "daemon_exit_0": rc == 0,
    }
    summary = {
        "ok": all(checks.values()),
        "source": plan.source,
        "checks": checks,
        "config": str(cfg.source),
        "daemon_config": {"path": str(daemon_cfg), **daemon_cfg_info, "log": str(log_path)},
        "broker": {"bootstrap": bootstrap, "started_by_demo": started_broker},
        "topics": {
            "input": k.input_topic,
            "alerts": k.alert_topic,
            "dead_letter": k.dead_letter_topic,
            "group": k.group_id,
        },
        "artifact": artifact,
        "replay": {**report.summary(), "runs": len(plan.streams), "bad_messages": bad_sent, "bad_kinds_left_out": note},
        "daemon": {
            "consumed": int(consumed),
            "scored": int(scored),
            "dead_lettered": int(dead),
            "dead_lettered_by_reason": dead_by_reason,
            "alarms": int(metric_sum(m, "latentwatch_alarms")),
            "alerts_by_event": alerts_by_event,
            "commits": int(metric_sum(m, "latentwatch_commits")),
            "exit_code": rc,
        },
        "offsets": {
            "start": {str(p): o for p, o in sorted(start.items())},
            "end": {str(p): o for p, o in sorted(end.items())},
            "committed": {str(p): o for p, o in sorted(final_committed.items())},
            "messages": total,
        },
        "topics_read": {
            "alerts": len(alerts),
            "dead_letters": len(dead_letters),
            "dead_letters_by_reason": reasons(dead_letters),
        },
        "episodes": {
            "total": len(episodes),
            "overlapping_a_labelled_anomaly": detection["true_episodes"],
            "in_normal_spans": detection["false_episodes"],
            "open_at_end": sum(1 for e in episodes.values() if e.get("open_at_end")),
        },
        "detection": detection,
        "skab": skab,
        "synthetic": plant_scores,
        "runs": runs,
        "timings": {**timings, "total_s": round(now() - t_start, 1)},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(summary, indent=2, default=lambda o: dict(o) if isinstance(o, Counter) else str(o)) + "\n"
    )
    print(render(summary, out), flush=True)
    from latentwatch.report.demo import write_demo_report  # the visual report, beside the summary

    inputs = read_range(bootstrap, k.input_topic, start, security=security)
    say(f"report: {write_demo_report(summary, alerts, daemon_cfg, inputs, out)} (latentwatch report --help)")
    return summary
