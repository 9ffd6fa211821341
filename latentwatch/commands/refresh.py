"""`latentwatch refresh --config PATH`: rebuild the reference of the current version from recent normal traffic,
validate it, publish it (``pipelines/refresh``). The systemd timer runs ``latentwatch refresh --config ...
--if-requested`` or plain.

Input: a time range of the config's input topic (``--from``/``--to``, default the last ``refresh.lookback_s``
seconds) read as ``latentwatch train --topic`` reads it, with the alert topic over the same range (from an hour
before, so an episode opened earlier is known) for the windows that alarmed; or ``--files`` (no alerts then: only
the quantile rule and the cap leave windows out). Exit status: 0 published, dry run passed, or nothing requested;
2 bad input (config, range, files, broker); 3 validation failed (nothing published, current.json untouched).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

EXIT_BAD_INPUT = 2
EXIT_VALIDATION_FAILED = 3
ALERT_MARGIN_MS = 3_600_000

log = logging.getLogger("latentwatch.refresh")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, help="the daemon's config (kafka, artifact.root, threshold, refresh)")
    p.add_argument("--from", dest="start", help="start of the range (ISO-8601 or epoch ms; default: now - lookback_s)")
    p.add_argument("--to", dest="end", help="end of the range, exclusive (default: now)")
    p.add_argument("--files", nargs="+", metavar="PATH", help="windows from files instead of the topic (as train)")
    p.add_argument("--columns", nargs="+", help="--files: the value columns (default: all but asset and ts)")
    p.add_argument("--dry-run", action="store_true", help="select, rebuild and validate; publish nothing")
    p.add_argument("--if-requested", action="store_true", help="do nothing (exit 0) unless a refresh is requested")


def read_alerts(cfg: Any, start_ms: int, end_ms: int) -> Iterator[dict[str, Any]]:
    """The alert documents on the alert topic with broker timestamps in [start_ms - 1 h, end_ms + 1 h)."""
    from kafka import KafkaConsumer

    from daemon.kafka_clients import consumer_settings
    from latentwatch.training.topic import chunks, ranges

    settings = {**consumer_settings(cfg.kafka), "group_id": None, "client_id": f"{cfg.kafka.client_id}-refresh"}
    consumer = KafkaConsumer(**settings)
    try:
        if not consumer.partitions_for_topic(cfg.kafka.alert_topic):
            return
        todo = ranges(consumer, cfg.kafka.alert_topic, start_ms - ALERT_MARGIN_MS, end_ms + ALERT_MARGIN_MS)
        for chunk in chunks(consumer, todo, False, 60):
            for r in chunk:
                try:
                    doc = json.loads(r.value)
                except (TypeError, ValueError):
                    continue
                if isinstance(doc, dict):
                    yield doc
    finally:
        consumer.close()


def _windows(args: argparse.Namespace, cfg: Any, width: int) -> tuple[Any, dict[str, Any], Any]:
    """(windows, what the manifest records of the input, alarm ranges)."""
    from latentwatch.training.topic import parse_time, read_topic
    from pipelines.data.user_files import read_files
    from pipelines.refresh.select import AlarmRanges, alarm_ranges

    if args.files:
        if args.start or args.end:
            raise ValueError("--from/--to go with the topic; --files reads the files whole")
        got = read_files(args.files, args.columns)
        if got.X.shape[1] != width:
            raise ValueError(f"the files hold {got.X.shape[1]} values per window, the current model takes {width}")
        n = len(got.X)
        asset = got.asset if got.asset is not None else np.full(n, "", dtype=str)
        ts = got.ts_ms if got.ts_ms is not None else np.arange(n, dtype=np.int64)
        return (got.X, asset, ts), {"files": [str(Path(f)) for f in args.files], "alerts": None}, AlarmRanges()
    end = parse_time(args.end) if args.end else int(time.time() * 1000)
    start = parse_time(args.start) if args.start else end - int(cfg.refresh.lookback_s * 1000)
    got = read_topic(cfg, cfg.kafka.input_topic, start, end, width=width, dtype=np.float32)
    w = got.windows
    ranges = alarm_ranges(read_alerts(cfg, start, end), end)
    info = {
        "topic": cfg.kafka.input_topic,
        "from_ms": start,
        "to_ms": end,
        "records": got.records,
        "skipped": dict(got.skipped),
        "alerts": ranges.alerts,
    }
    return (w.X, w.asset, w.ts_ms), info, ranges


def run(args: argparse.Namespace) -> int:
    from kafka.errors import KafkaError

    from daemon.config import ConfigError, load_config
    from daemon.threshold_guard import REQUEST_FILE
    from pipelines.artifact.store import ArtifactError, read_manifest, read_pointer
    from pipelines.data.tables import DataError
    from pipelines.refresh.job import refresh
    from pipelines.refresh.requests import drift_since, read_requests, remove_honoured
    from pipelines.refresh.validate import Rule, read_labels

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("kafka").setLevel(logging.ERROR)
    try:
        cfg = load_config(args.config)
        if cfg.artifact.root is None:
            raise ValueError(f"{args.config}: refresh needs artifact.root (the folder with current.json)")
        root = Path(cfg.artifact.root)
        req_path = cfg.threshold.checkpoint_path.parent / REQUEST_FILE
        requests = read_requests(req_path)
        if args.if_requested and not requests:
            print(json.dumps({"status": "not_requested", "requests": str(req_path)}))
            return 0
        for r in requests:
            log.info("refresh request honoured: %s", json.dumps(r, sort_keys=True))
        width = int(read_manifest(root, read_pointer(root)["version"])["dim"])
        (X, asset, ts), info, ranges = _windows(args, cfg, width)
        labels = read_labels(cfg.refresh.labels, width) if cfg.refresh.labels else None
        rule = Rule(
            cfg.refresh.max_alarm_rate_increase, cfg.refresh.max_auroc_drop, cfg.threshold.q, cfg.threshold.level
        )
        out = refresh(
            root,
            X,
            asset,
            ts,
            ranges,
            drift_since(requests),
            cfg.refresh,
            rule,
            labels=labels,
            dry_run=args.dry_run,
            fields={"input": info, "requests": requests},
        )
    except (ConfigError, ArtifactError, DataError, ValueError, OSError, TimeoutError, KafkaError) as e:
        print(f"latentwatch refresh: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps(out.summary()))
    if out.status == "failed":
        print(f"latentwatch refresh: validation failed: {'; '.join(out.verdict.reasons)}", file=sys.stderr)
        return EXIT_VALIDATION_FAILED
    if out.status == "published":
        removed = remove_honoured(req_path, requests)
        log.info("published %s (from %s); %d refresh request(s) done", out.version, out.previous, removed)
    return 0
