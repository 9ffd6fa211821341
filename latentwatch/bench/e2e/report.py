"""The printed summary of `latentwatch bench e2e`."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def render(r: dict[str, Any], out: Path) -> str:
    tp, lat, lc, g, b = r["throughput"], r["latency"], r["latency_commit"], r["goals"], r.get("binary")
    d = tp["daemon"]
    mark = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    lines = [
        "",
        f"latentwatch bench e2e (commit {r['code']['commit']}"
        f"{', modified: ' + ', '.join(r['code']['modified']) if r['code']['modified'] else ''}; "
        f"{r['machine']['cpus']} CPUs, load average at the end "
        f"{', '.join(map(str, r['machine']['load_avg_at_end']))}; artifact {r['artifact']['version']}, "
        f"{r['artifact']['reference_items']} reference items)",
        f"  produced up front   {r['produced']['windows']} windows in {r['produced']['seconds']} s "
        f"({r['produced']['per_s']:.0f}/s)",
        f"  raw consume         {tp['raw_before']['per_s']:.0f}/s before, {tp['raw_after']['per_s']:.0f}/s after "
        f"(bare KafkaConsumer; {tp['raw_before']['per_cpu_s']:.0f} and {tp['raw_after']['per_cpu_s']:.0f} per CPU s)",
        f"  daemon              {d['per_s']:.0f} windows/s ({d['windows']} in {d['seconds']} s; "
        f"{d['per_cpu_s']} per CPU s, CPU {d['cpu_s']}, utilisation {d['cpu_utilisation']})",
        f"  ratio vs raw        {tp['ratio_vs_raw']}  (per CPU s: {tp['ratio_per_cpu_s']})",
    ]
    if b:
        lines.append(
            f"  binary encoding     daemon {b['daemon']['per_s']:.0f} windows/s "
            f"({b['daemon']['per_cpu_s']} per "
            f"CPU s) vs bare consumer {b['raw']['per_s']:.0f}/s: ratio {b['ratio_vs_raw']}; JSON above "
            f"{d['per_s']:.0f}/s ({d['per_cpu_s']} per CPU s)"
        )
    if lat and lc:
        lines += [
            f"  latency at {lat['rate']:g}/s, every window alerting: produce -> alert published p50 "
            f"{lat['latency_ms']['p50']} ms, p99 {lat['latency_ms']['p99']} ms, max {lat['latency_ms']['max']} ms "
            f"({lat['windows_measured']} of {lat['windows']} windows; {lat['daemon_cpu_us_per_window']} us CPU/window)",
            f"  latency at {lc['rate']:g}/s, SKAB as is: produce -> offset committed p50 {lc['latency_ms']['p50']} ms, "
            f"p99 {lc['latency_ms']['p99']} ms, max {lc['latency_ms']['max']} ms ({lc['windows_measured']} of "
            f"{lc['windows']} windows; {lc['daemon_cpu_us_per_window']} us CPU/window)",
            f"  after the first 5 s: p99 {lat['latency_ms_after_warmup']['p99']} / "
            f"{lc['latency_ms_after_warmup']['p99']} ms; slowest seconds of input (alert run): "
            + ", ".join(f"{w['second']} s: {w['max_ms']:.0f} ms" for w in lat["worst_seconds"]),
            f"  peer: raw delivery  a bare consumer of the same input, same time: "
            f"p50 {lat['raw_delivery_ms']['p50']} / {lc['raw_delivery_ms']['p50']} ms, "
            f"p99 {lat['raw_delivery_ms']['p99']} / {lc['raw_delivery_ms']['p99']} ms",
        ]
    lines += [
        f"  goals               windows/s {g['windows_per_s']['value']} vs {g['windows_per_s']['goal']:.0f}: "
        f"{mark(g['windows_per_s']['met'])}; ratio {g['ratio_vs_raw']['value']} vs {g['ratio_vs_raw']['goal']}: "
        f"{mark(g['ratio_vs_raw']['met'])}; p99 {g['p99_ms_at_rate']['value']} ms vs "
        f"{g['p99_ms_at_rate']['goal']:.0f} ms: {mark(g['p99_ms_at_rate']['met'])} (ordinary traffic, at the "
        f"commit: {g['p99_ms_at_rate_commit']['value']} ms: {mark(g['p99_ms_at_rate_commit']['met'])})",
    ]
    p = r.get("profile")
    if p:
        lines.append(f"  profile (cProfile, main thread, {p['run']['per_s']:.0f} windows/s under the profiler):")
        for k, v in sorted(p["us_per_window"].items(), key=lambda kv: -kv[1]):
            lines.append(f"    {k:<44} {v:>8.1f} us/window  {100 * (p['share'][k] or 0):5.1f}%")
        lines.append("  top self time: " + "; ".join(f"{t['function']} {t['self_s']}s" for t in p["top_self_time"][:8]))
        sp = p.get("sampled")
        if sp:
            lines.append(
                f"  profile (py-spy shares x main-thread CPU from /proc; {sp['run']['per_s']:.0f} windows/s "
                f"while sampled; {sp['samples']} samples; {sp['run']['per_cpu_s']} windows per CPU s):"
            )
            for k, v in sorted(sp["cpu_us_per_window"].items(), key=lambda kv: -kv[1]):
                share = sp["share_of_loop"].get(k)
                lines.append(
                    f"    {k:<72} {v:>6.1f} us CPU/window"
                    + (f"  {100 * share:5.1f}% of the loop" if share is not None else "")
                )
    ap = (p or {}).get("sampled_alert_path")
    if ap:
        lines.append(
            f"  profile of the alert path (every window alerting; {ap['run']['per_s']:.0f} windows/s, "
            f"{ap['run']['per_cpu_s']} windows per CPU s):"
        )
        for k, v in sorted(ap["cpu_us_per_window"].items(), key=lambda kv: -kv[1]):
            if v >= 0.5:
                lines.append(f"    {k:<72} {v:>6.1f} us CPU/window")
    for name in ("latency", "latency_commit"):
        for stall in (r[name] or {}).get("stalled_attempts") or []:
            lines.append(f"  NOTE {name}: the first daemon stalled and the phase was rerun: {stall}")
    lines += [f"  JSON: {out}", ""]
    return "\n".join(lines)
