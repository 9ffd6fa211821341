"""Where a report's run comes from: the files a demo or an earlier report wrote (``read_files``/``write_files``), or
the alert and input topics on the broker (``from_topics``).

A run's folder holds ``run.json`` (settings, source, where the scores come from, the reproduction check),
``alerts.jsonl`` (the alerts as published, one per line) and ``windows.csv`` (every window: asset, ts_ms, y, and
score, threshold, alarm and ``c:<component>`` columns when a trace gave them; empty cells where unknown).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from latentwatch.report.run import SCORES_ALERTS_ONLY, Run, Series
from latentwatch.report.trace import compare, label_of, trace

FILES = ("run.json", "alerts.jsonl", "windows.csv")
SCORES_TRACED = "every window: an offline run of the daemon's chain over the input records (latentwatch.report.trace)"


class RunFilesError(ValueError):
    """A run folder that is missing a file or holds one that cannot be read; the message names it."""


def write_files(run: Run, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"settings": run.settings, "source": run.source, "scores": run.scores, "reproduced": run.reproduced}
    (folder / "run.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
    (folder / "alerts.jsonl").write_bytes(b"".join(orjson.dumps(a) + b"\n" for a in run.alerts))
    comps = sorted({k for s in run.series.values() for k in s.components})
    with (folder / "windows.csv").open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["asset", "ts_ms", "y", "score", "threshold", "alarm", *(f"c:{c}" for c in comps)])
        for asset in sorted(run.series):
            s = run.series[asset]
            cols: list[Any] = [s.ts_ms.tolist(), s.y.tolist()]
            for arr in (s.score, s.threshold):
                cols.append([""] * len(s.ts_ms) if arr is None else [repr(float(v)) for v in arr])
            cols.append([""] * len(s.ts_ms) if s.alarm is None else [int(v) for v in s.alarm])
            for c in comps:
                v = s.components.get(c)
                cols.append([""] * len(s.ts_ms) if v is None else [repr(float(x)) for x in v])
            out.writerows([asset, *row] for row in zip(*cols, strict=True))
    return folder


def _column(rows: list[dict[str, str]], name: str, dtype: Any, path: Path) -> np.ndarray | None:
    cells = [r.get(name, "") for r in rows]
    if all(c == "" for c in cells):
        return None
    if any(c == "" for c in cells):
        raise RunFilesError(f"{path}: column {name!r} is empty in some rows of asset {rows[0]['asset']!r}")
    try:
        return np.asarray([float(c) for c in cells]).astype(dtype)
    except ValueError as e:
        raise RunFilesError(f"{path}: column {name!r}: {e}") from None


def read_files(folder: Path) -> Run:
    folder = Path(folder)
    missing = [n for n in FILES if not (folder / n).is_file()]
    if missing:
        raise RunFilesError(f"{folder}: no {', '.join(missing)} (a run folder holds {', '.join(FILES)})")
    meta = json.loads((folder / "run.json").read_text())
    alerts = []
    for i, line in enumerate((folder / "alerts.jsonl").read_bytes().splitlines(), start=1):
        try:
            alerts.append(orjson.loads(line))
        except orjson.JSONDecodeError as e:
            raise RunFilesError(f"{folder / 'alerts.jsonl'} line {i}: {e}") from None
    path = folder / "windows.csv"
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        by_asset: dict[str, list[dict[str, str]]] = defaultdict(list)
        for r in reader:
            by_asset[r["asset"]].append(r)
        comps = [c[2:] for c in reader.fieldnames or [] if c.startswith("c:")]
    series = {}
    for asset, rows in by_asset.items():
        ts = _column(rows, "ts_ms", np.int64, path)
        y = _column(rows, "y", np.int8, path)
        if ts is None or y is None:
            raise RunFilesError(f"{path}: asset {asset!r} has no ts_ms or y")
        alarm = _column(rows, "alarm", np.int8, path)
        components = {c: v for c in comps if (v := _column(rows, f"c:{c}", np.float64, path)) is not None}
        series[asset] = Series(
            asset,
            ts,
            y,
            _column(rows, "score", np.float64, path),
            _column(rows, "threshold", np.float64, path),
            None if alarm is None else alarm.astype(bool),
            components,
        )
    return Run(
        series,
        alerts,
        meta.get("settings") or {},
        meta.get("source") or str(folder),
        meta.get("scores") or SCORES_ALERTS_ONLY,
        meta.get("reproduced"),
    )


def labels_from_records(records: Sequence[Any]) -> dict[str, Series]:
    """Every window's asset, time and label from input records, with the daemon's own parsers; records it would
    dead-letter are left out, as the daemon leaves them out."""
    from daemon.wire.binary_codec import HEADER_BYTES, is_binary, parse_binary
    from daemon.wire.json_codec import parse_json, parse_window
    from daemon.wire.schema import InvalidMessage

    cols: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for r in records:
        v = r.value
        try:
            if v is not None and is_binary(v) and len(v) >= HEADER_BYTES:
                asset, ts_ms, _, meta = parse_binary(v, int.from_bytes(v[14:16], "little"))
            else:
                asset, ts_ms, _, meta = parse_window(parse_json(v, len(v or b"")))
        except InvalidMessage:
            continue
        cols[asset][0].append(int(ts_ms))
        cols[asset][1].append(label_of(meta))
    out = {}
    for asset, (ts, y) in cols.items():
        order = np.argsort(np.asarray(ts, dtype=np.int64), kind="stable")
        out[asset] = Series(asset, np.asarray(ts, dtype=np.int64)[order], np.asarray(y, dtype=np.int8)[order])
    return out


def from_records(
    cfg: Any,
    records: Sequence[Any],
    alerts: list[dict[str, Any]],
    *,
    traced: bool = True,
    artifact_path: Path | None = None,
    settings: dict[str, Any] | None = None,
    source: str = "",
) -> Run:
    """A run from its input records and its live alerts: traced through the daemon's chain, or labels only."""
    if not traced:
        return Run(labels_from_records(records), alerts, settings or {}, source)
    series, offline = trace(cfg, records, artifact_path)
    return Run(series, alerts, settings or {}, source, SCORES_TRACED, compare(alerts, offline))


def from_topics(cfg: Any, *, traced: bool = True) -> Run:
    """The whole retained alert and input topics of ``cfg``'s broker (alerts of other input topics left out)."""
    from latentwatch.kafka.admin import read_range

    k = cfg.kafka
    bootstrap, security = k.bootstrap_servers[0], k.security.client_kwargs()
    alerts = [orjson.loads(r.value) for r in read_range(bootstrap, k.alert_topic, {}, security=security)]
    alerts = [a for a in alerts if a.get("source") is None or a["source"].get("topic") == k.input_topic]
    records = read_range(bootstrap, k.input_topic, {}, security=security)
    settings = {"config": str(cfg.source), "threshold": _plain(cfg.threshold), "episodes": _plain(cfg.episodes)}
    source = f"topics {k.input_topic} and {k.alert_topic} on {bootstrap}"
    versions = {str(a["artifact_version"]) for a in alerts if a.get("artifact_version")}
    pinned = None
    if len(versions) == 1 and cfg.artifact.root is not None:  # the version the live daemon ran, not today's current
        candidate = Path(cfg.artifact.root) / "versions" / versions.pop()
        pinned = candidate if candidate.is_dir() else None
    settings["artifact"] = str(pinned or cfg.artifact.path or cfg.artifact.root)
    return from_records(cfg, records, alerts, traced=traced, artifact_path=pinned, settings=settings, source=source)


def _plain(section: Any) -> dict[str, Any]:
    import dataclasses

    return {f.name: str(getattr(section, f.name)) for f in dataclasses.fields(section)}
