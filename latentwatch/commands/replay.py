"""`latentwatch replay`: stream a data set from the data directory into the input topic as windows.

    latentwatch replay --config conf/local.yaml --source skab --rate 500
    latentwatch replay --bootstrap 127.0.0.1:19092 --topic latentwatch.windows --artifact-root var/artifacts \\
        --assets 'skab/valve1/*' --limit 5000 --inject-bad 0.01

The windows are cut by the same code as training (``pipelines.sources.streams``) with the model's ``WindowSpec``:
from ``--artifact-root`` (or the config's artifact) when its manifest records one, else from the flags. Prints one JSON
line with the counts and the achieved rate; exit 0 when every message was acknowledged, 1 otherwise, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

import orjson


def add_arguments(p: argparse.ArgumentParser) -> None:
    where = p.add_argument_group("where to send")
    where.add_argument(
        "--config",
        metavar="FILE",
        help="daemon YAML: bootstrap servers, input topic, security, "
        "dead_letter.max_bytes and the artifact are taken from it",
    )
    where.add_argument("--bootstrap", metavar="HOST:PORT[,...]", help="overrides kafka.bootstrap_servers")
    where.add_argument("--topic", help="overrides kafka.input_topic (default latentwatch.windows)")
    what = p.add_argument_group("what to send")
    what.add_argument("--source", help="data set (skab, mi-f, mi-v, eopt, snsr, nasa, stl); default: the artifact's")
    what.add_argument("--data-dir", help="shared data folder (default: $LATENTWATCH_DATA_DIR or ../shared/data)")
    what.add_argument(
        "--artifact-root",
        metavar="DIR",
        help="artifact root (follows current) or version directory "
        "whose manifest gives the source and the window spec, so the replay matches the model",
    )
    what.add_argument("--window", type=int, help="SKAB: window length in rows (default: the artifact's, else 10)")
    what.add_argument("--stride", type=int, help="SKAB: rows between window starts (default: the artifact's, else 1)")
    what.add_argument("--mode", choices=("summary", "flatten"), help="SKAB: window vector (default: the artifact's)")
    what.add_argument(
        "--assets", metavar="A[,B,...]", help="only these assets (names or shell globs, e.g. 'skab/valve1/*')"
    )
    what.add_argument("--limit", type=int, help="stop after this many windows")
    what.add_argument("--loop", action="store_true", help="repeat the data set (time stamps move on every pass)")
    how = p.add_argument_group("how")
    how.add_argument(
        "--encoding",
        choices=("json", "binary"),
        default="json",
        help="message encoding: JSON (default) or the compact binary window (README, Messages)",
    )
    how.add_argument("--rate", type=float, help="windows per second (default: as fast as possible)")
    how.add_argument(
        "--inject-bad",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="after a window, with this probability, send one message the daemon must dead-letter "
        "(every class in turn)",
    )
    how.add_argument("--bad-kinds", metavar="K[,K,...]", help="which dead-letter classes to inject (default: all)")
    how.add_argument("--seed", type=int, default=0, help="seed for --inject-bad")
    how.add_argument("--linger-ms", type=int, default=20, help="producer batching delay")
    how.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def _fail(msg: str) -> int:
    print(f"latentwatch replay: {msg}", file=sys.stderr)
    return 2


def resolve(args: argparse.Namespace) -> dict[str, Any]:
    """Everything the replay needs from flags, config and manifest; raises ValueError with a message for the user."""
    from daemon.config import KafkaConfig, load_config
    from pipelines.sources import SOURCES, WindowSpec

    kafka, max_bytes, manifest, manifest_from = KafkaConfig(), None, None, None
    if args.config:
        cfg = load_config(args.config)
        kafka, max_bytes = cfg.kafka, cfg.dead_letter.max_bytes
        art = cfg.artifact.path or cfg.artifact.root
        if not args.artifact_root and art is not None:
            try:
                from latentwatch.replay import read_manifest

                manifest, manifest_from = read_manifest(art), str(art)
            except Exception:  # no model published yet: the flags decide
                manifest = None
    if args.artifact_root:
        from latentwatch.replay import read_manifest

        try:
            manifest, manifest_from = read_manifest(args.artifact_root), args.artifact_root
        except Exception as e:
            raise ValueError(f"--artifact-root {args.artifact_root}: {e}") from None
    bootstrap = (
        tuple(s.strip() for s in args.bootstrap.split(",") if s.strip()) if args.bootstrap else kafka.bootstrap_servers
    )
    topic = args.topic or kafka.input_topic
    source = args.source or (manifest or {}).get("source")
    if not source:
        raise ValueError("give --source, or --artifact-root/--config with an artifact whose manifest records one")
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; choose from {', '.join(SOURCES)}")
    if manifest is not None and manifest.get("source") and manifest["source"] != source:
        raise ValueError(f"--source {source} but the model ({manifest_from}) was trained on {manifest['source']}")
    trained = (manifest or {}).get("window") or {}
    spec = WindowSpec(**trained) if trained else WindowSpec()
    flags = {"length": args.window, "stride": args.stride, "mode": args.mode}
    for name, value in flags.items():
        if value is None:
            continue
        if trained and trained.get(name) != value:
            raise ValueError(
                f"--{'window' if name == 'length' else name} {value} differs from the window the model "
                f"({manifest_from}) was trained with ({trained}); the scores would mean nothing"
            )
        spec = WindowSpec(**{**spec.to_dict(), name: value})
    if args.rate is not None and not args.rate > 0:
        raise ValueError(f"--rate must be positive, got {args.rate}")
    if args.limit is not None and args.limit < 0:
        raise ValueError(f"--limit must be >= 0, got {args.limit}")
    if not 0.0 <= args.inject_bad <= 1.0:
        raise ValueError(f"--inject-bad must be a fraction in [0, 1], got {args.inject_bad}")
    assets = [a.strip() for a in args.assets.split(",") if a.strip()] if args.assets else None
    return {
        "bootstrap": bootstrap,
        "topic": topic,
        "security": kafka.security.client_kwargs(),
        "source": source,
        "spec": spec,
        "max_bytes": max_bytes,
        "assets": assets,
        "dim": (manifest or {}).get("dim"),
        "manifest_from": manifest_from,
    }


def run(args: argparse.Namespace) -> int:
    from daemon.config import ConfigError
    from latentwatch.replay import BAD_KINDS, Plan, producer_settings, replay
    from pipelines.sources import streams

    try:
        r = resolve(args)
        kinds = tuple(k.strip() for k in args.bad_kinds.split(",") if k.strip()) if args.bad_kinds else BAD_KINDS
        unknown = [k for k in kinds if k not in BAD_KINDS]
        if unknown:
            raise ValueError(f"unknown --bad-kinds {unknown}; known: {', '.join(BAD_KINDS)}")
        plan = Plan.build(r["source"], streams(r["source"], args.data_dir, r["spec"]), r["assets"])
    except (ValueError, ConfigError, FileNotFoundError) as e:
        return _fail(str(e))
    if r["dim"] is not None and len(plan) and plan.dim != r["dim"]:
        return _fail(f"the windows have {plan.dim} values, the model ({r['manifest_from']}) expects {r['dim']}")
    if not args.quiet:
        print(
            f"latentwatch replay: {len(plan)} windows of {len(plan.streams)} asset(s) from {r['source']} "
            f"(window {r['spec'].to_dict()}) -> {r['topic']} on {','.join(r['bootstrap'])}",
            file=sys.stderr,
        )

    from kafka import KafkaProducer

    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    producer = KafkaProducer(**producer_settings(r["bootstrap"], r["security"], linger_ms=args.linger_ms))
    try:
        progress = (
            None
            if args.quiet
            else (
                lambda rep: print(
                    f"latentwatch replay: {rep.messages} sent, {rep.acked} acked, {rep.rate:.0f}/s", file=sys.stderr
                )
            )
        )
        report = replay(
            producer,
            r["topic"],
            plan,
            rate=args.rate,
            limit=args.limit,
            loop=args.loop,
            encoding=args.encoding,
            inject_bad=args.inject_bad,
            bad_kinds=kinds,
            max_bytes=r["max_bytes"],
            seed=args.seed,
            stop=stop,
            progress=progress,
        )
    finally:
        producer.close(timeout=30)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    summary = {**report.summary(), "source": r["source"], "window": r["spec"].to_dict()}
    sys.stdout.write(orjson.dumps(summary).decode() + "\n")
    sys.stdout.flush()
    return 0 if report.errors == 0 else 1
