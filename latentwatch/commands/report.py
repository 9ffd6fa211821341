"""`latentwatch report`: one self-contained HTML file of a run (latentwatch/report): a fleet overview, then per asset
the score with its threshold, the episodes over the labelled anomalies, the score components, the sensors each episode
names, precision/recall/F1/FAR; the settings and artifact version last."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--from",
        dest="run_dir",
        metavar="DIR",
        help="a run's folder (run.json, alerts.jsonl, windows.csv), as the demo writes it (default out/demo/run)",
    )
    src.add_argument(
        "--config",
        metavar="FILE",
        help="daemon YAML: read its alert and input topics from the broker (every retained record)",
    )
    p.add_argument(
        "--alerts-only",
        action="store_true",
        help="with --config: draw what the alerts carry, without running the input through the daemon's chain offline",
    )
    p.add_argument("--save-run", metavar="DIR", help="with --config: also write the run's files to DIR")
    p.add_argument("--out", default="out/report.html", metavar="FILE", help="the HTML file (default out/report.html)")
    p.add_argument("--check", action="store_true", help="render it in headless Chromium: exit 1 if a plot is blank")
    p.add_argument("--screenshot", metavar="PNG", help="a PNG of the top of the page (headless Chromium)")
    p.add_argument("--height", type=int, default=1500, help="--screenshot's height in px (default 1500)")


def run(args: argparse.Namespace) -> int:
    from latentwatch.report import browser
    from latentwatch.report.html import render
    from latentwatch.report.read import RunFilesError, from_topics, read_files, write_files

    if not args.config and (args.alerts_only or args.save_run):
        print("latentwatch report: --alerts-only and --save-run go with --config", file=sys.stderr)
        return 2
    try:
        if args.config:
            from daemon.config import ConfigError, load_config

            try:
                cfg = load_config(args.config)
            except ConfigError as e:
                print(f"latentwatch report: {e}", file=sys.stderr)
                return 2
            r = from_topics(cfg, traced=not args.alerts_only)
            if args.save_run:
                write_files(r, Path(args.save_run))
        else:
            r = read_files(Path(args.run_dir or "out/demo/run"))
    except (RunFilesError, RuntimeError, TimeoutError) as e:
        print(f"latentwatch report: {e}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(r))
    print(f"report: {out} ({len(r.assets())} assets, {len(r.alerts)} alerts; scores: {r.scores})")
    if r.reproduced is not None and not r.reproduced["same"]:
        print(f"report: the offline run did not reproduce the live alerts: {r.reproduced}", file=sys.stderr)
    try:
        if args.screenshot:
            errors = browser.screenshot(out, Path(args.screenshot), args.height)
            print(f"report: screenshot {args.screenshot}" + (f"; console errors: {errors}" if errors else ""))
        if args.check:
            res = browser.check(out, out.with_suffix(".check.png"))
            print(
                f"report: {len(res.plots)} plots rendered in Chromium, blank: {res.blank or 'none'}, "
                f"console errors: {res.console_errors or 'none'} (screenshot {res.png})"
            )
            return 0 if res.ok else 1
    except browser.BrowserError as e:
        print(f"latentwatch report: {e}", file=sys.stderr)
        return 2
    return 0
