"""Every window's score, as the daemon's chain computes it: the offline run (``daemon.offline``) with a tap on the
batches it commits.

The daemon publishes alerts only, so a window that did not alarm leaves no score anywhere. The tap reads the batches
the commit step hands back (``Daemon._on_committed``): their windows, scores, components, thresholds and decisions,
untouched. Nothing is scored by other code, and the alerts this run publishes are compared with the live ones by id
(``compare``).
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from latentwatch.report.run import Series


def label_of(meta: Any) -> int:
    """The replay's ``meta.label`` (1 anomalous, 0 normal); -1 when the window carries none."""
    if isinstance(meta, dict) and meta.get("label") in (0, 1, True, False):
        return int(meta["label"])
    return -1


class _Columns:
    def __init__(self) -> None:
        self.cols: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))

    def add(self, batch: Any) -> None:
        w, s = batch.windows, batch.scored
        if w is None or s is None or not len(w):
            return
        for i, asset in enumerate(w.asset):
            c = self.cols[asset]
            c["ts_ms"].append(int(w.ts_ms[i]))
            c["y"].append(label_of(w.meta[i]))
            c["score"].append(float(s.score[i]))
            c["threshold"].append(float(batch.thresholds[i]))
            c["alarm"].append(bool(batch.alarms[i]))
            for name, v in s.components.items():
                c[f"c:{name}"].append(float(v[i]))

    def series(self) -> dict[str, Series]:
        out = {}
        for asset, c in self.cols.items():
            order = np.argsort(np.asarray(c["ts_ms"], dtype=np.int64), kind="stable")
            out[asset] = Series(
                asset,
                np.asarray(c["ts_ms"], dtype=np.int64)[order],
                np.asarray(c["y"], dtype=np.int8)[order],
                np.asarray(c["score"], dtype=np.float64)[order],
                np.asarray(c["threshold"], dtype=np.float64)[order],
                np.asarray(c["alarm"], dtype=bool)[order],
                {k[2:]: np.asarray(v, dtype=np.float64)[order] for k, v in c.items() if k.startswith("c:")},
            )
        return out


def trace(
    cfg: Any, records: Sequence[Any], artifact_path: Path | None = None
) -> tuple[dict[str, Series], list[dict[str, Any]]]:
    """(every window's series per asset, the alerts this offline run published) for ``records`` (topic, partition,
    offset, key, value, as read from the input topic) under the daemon config ``cfg``, the model pinned to
    ``artifact_path`` when given."""
    from daemon.inmemory import MemoryConsumer, MemoryProducer
    from daemon.offline import offline_config
    from daemon.service import Daemon
    from daemon.signals import Flags

    cols = _Columns()

    class _Tapped(Daemon):
        def _on_committed(self, batches: list[Any], offsets: Any) -> None:
            for b in batches:
                cols.add(b)
            super()._on_committed(batches, offsets)

    with tempfile.TemporaryDirectory(prefix="latentwatch-report-") as tmp:
        flags = Flags()
        consumer = MemoryConsumer(records, lambda: flags.request_stop("offline-done"))
        producer = MemoryProducer()
        quiet = offline_config(cfg, Path(tmp), artifact_path)  # the live run logged its warnings already
        quiet = dataclasses.replace(quiet, logging=dataclasses.replace(quiet.logging, level="ERROR"))
        d = _Tapped(quiet, flags=flags, clients=lambda c: (consumer, producer))
        code = d.run()
    if code != 0:
        raise RuntimeError(f"the offline run of the daemon's chain exited {code}")
    alerts = [orjson.loads(v) for t, _, v, _ in producer.sent if t == cfg.kafka.alert_topic and v is not None]
    return cols.series(), alerts


def compare(live: list[dict[str, Any]], offline: list[dict[str, Any]]) -> dict[str, Any]:
    """Did the offline run publish the live run's alerts? By id: a replay of the same records must give the same."""
    a, b = {x["alert_id"] for x in live}, {x["alert_id"] for x in offline}
    return {"live": len(a), "offline": len(b), "same": a == b, "only_live": len(a - b), "only_offline": len(b - a)}
