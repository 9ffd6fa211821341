"""The printed summary of `latentwatch demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _mark(ok: bool) -> str:
    return "ok" if ok else "FAILED"


def render(s: dict[str, Any], out: Path) -> str:
    c, d, a, r, det = s["checks"], s["daemon"], s["artifact"], s["replay"], s["detection"]
    skab = s.get("source", "skab") == "skab"
    name, streams = ("SKAB", "labelled SKAB runs") if skab else ("synthetic plant", "synthetic plant assets")
    trained = (
        f"trained now: {a['epochs']} epochs, {a['train_wall_s']:.0f} s wall, {a['train_cpu_s']:.0f} s CPU"
        if a["trained_now"]
        else "already there"
    )
    dl = ", ".join(f"{k} {v}" for k, v in d["dead_lettered_by_reason"].items()) or "none"
    ev = d["alerts_by_event"]
    lines = [
        "",
        f"latentwatch demo: {'every check passed' if s['ok'] else 'SOME CHECKS FAILED'} "
        f"({s['timings']['total_s']:.0f} s)",
        f"  broker      {s['broker']['bootstrap']} "
        f"({'started by the demo, stopped at the end' if s['broker']['started_by_demo'] else 'already running'})",
        f"  artifact    {a['version']} ({name}, {trained})",
        f"  daemon      latentwatch run --config {s['daemon_config']['path']}; SIGTERM -> exit {d['exit_code']} "
        f"[{_mark(c['daemon_exit_0'])}]",
        f"  replayed    {r['windows']} windows of {r['runs']} {streams} + {len(r['bad_messages'])} bad "
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
        f"  detection   {det['runs_detected']} of {det['runs_with_anomaly']} "
        + ("runs had their anomaly segment detected" if skab else "assets had every fault detected")
        + (f" ({100 * det['detection_rate']:.0f}%)" if det["detection_rate"] is not None else "")
        + f"; {det['false_episodes']} false episodes over {det['normal_windows']} normal windows",
    ]
    if s.get("skab"):
        b, nab, f = s["skab"]["binary"], s["skab"]["nab"], s["skab"]["faults"]
        e = s["skab"]["episode"]["binary"]
        lines += [
            "  SKAB        row (b), the deployment shape (model of the anomaly-free run, each run's own normal from "
            "its first 400 rows, the rest streamed), test rows only:",
            f"              flagged = alarmed windows: F1 {b['f1']:.3f}  FAR {b['far']:.2f} %  MAR {b['mar']:.2f} %; "
            f"NAB standard {nab['standard']:.1f}, LowFP {nab['low_fp']:.1f}, LowFN {nab['low_fn']:.1f}",
            f"              flagged = rows inside an episode: F1 {e['f1']:.3f}  FAR {e['far']:.2f} %  "
            f"MAR {e['mar']:.2f} %",
            f"              faults detected {f['detected']} of {f['of']}; false episodes "
            f"{f['false_episodes_per_1000_normal']:.2f} per 1,000 normal rows"
            + ("" if f["median_delay_s"] is None else f"; median delay {f['median_delay_s']:.0f} s"),
        ]
    if s.get("synthetic"):
        lines += plant_lines(s["synthetic"])
    lines += [
        "",
        f"  {'run':<16} {'windows':>7} {'anomalous':>9} {'detected':>8} {'delay_s':>8} {'episodes':>8} {'false':>5}",
    ]
    for run_ in s["runs"]:
        delay = "" if run_["delay_s"] is None else f"{run_['delay_s']:+.0f}"
        lines.append(
            f"  {run_['asset']:<16} {run_['windows']:>7} {run_['anomalous_windows']:>9} "
            f"{'yes' if run_['detected'] else 'no':>8} {delay:>8} {run_['episodes']:>8} "
            f"{run_['false_episodes']:>5}"
        )
    lines += [
        "",
        "  delay_s: first episode overlapping the labelled segment opened this long after the segment's first "
        "window (negative: before it)",
        f"  summary JSON: {out}; daemon log: {s['daemon_config']['log']}",
        "",
    ]
    return "\n".join(lines)


def plant_lines(p: dict[str, Any]) -> list[str]:
    """The synthetic plant's scores: SKAB's metrics of the streamed rows, then each injected fault."""
    b, pf = p["binary"], p["per_fault"]
    kinds = ", ".join(f"{k} {v['detected']}/{v['of']}" for k, v in pf["by_kind"].items())
    lines = [
        "  plant       the simulated plant (pipelines/data/synthetic.py; model of every asset's fault-free first day, "
        "each asset's own normal from it, the rest streamed):",
        f"              flagged = alarmed windows: F1 {b['f1']:.3f}  FAR {b['far']:.2f} %  MAR {b['mar']:.2f} %",
        f"              faults detected {pf['detected']} of {pf['injected']} ({kinds}); the alerts named the "
        f"faulty sensor first for {pf['cause_named']}; false episodes "
        f"{p['faults']['false_episodes_per_1000_normal']:.2f} per 1,000 normal rows"
        + ("" if pf["median_delay_s"] is None else f"; median delay {pf['median_delay_s']:.0f} s"),
        "",
        f"  {'asset':<18} {'fault':<11} {'sensor':<17} {'rows':>11} {'detected':>8} {'delay_s':>8} {'named first':<17}",
    ]
    for f in p["injected"]:
        delay = "" if f["delay_s"] is None else f"{f['delay_s']:+.0f}"
        lines.append(
            f"  {f['asset']:<18} {f['kind']:<11} {f['sensor']:<17} {f['start']:>5}-{f['end']:<5} "
            f"{'yes' if f['detected'] else 'no':>8} {delay:>8} {f['top_sensor'] or '-':<17}"
        )
    return lines
