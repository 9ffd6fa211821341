"""Replay a data set into the input topic as windows, in the daemon's input format.

The windows come from ``pipelines.sources.streams``, the code training uses, with the ``WindowSpec`` the model was
trained with (read from an artifact's manifest, or given). Assets are merged by window end time, ties broken by asset
order, so each asset's windows keep their order; every message is keyed by its asset, so an asset stays in one
partition and the daemon sees its windows in order. One message::

    key   b"skab/valve1/0"
    value {"schema": 1, "asset": "skab/valve1/0", "ts": 1583748882000, "values": [0.0123, ...],
           "meta": {"source": "skab", "label": 0, "index": 0}}

``meta.label`` (1 anomalous, 0 normal) and ``meta.index`` (the window's position in its asset's stream) travel with
the window into the alerts, so a run can be compared offline with the labels. With ``loop`` the data set repeats and
every pass shifts the time stamps past the previous pass (``meta.loop`` counts passes), so time never runs backwards.

``inject_bad`` adds, after a good window and with that probability, one message that the daemon must dead-letter, one
class after another (``BAD_KINDS``, named like ``daemon.wire.schema.Reason``), keyed by the same asset.

The producer is idempotent with ``acks=all``; sends are batched (``linger_ms``) and counted by delivery callbacks;
``replay`` flushes at the end and reports what was acknowledged.

Modules: plan (where the windows come from), messages (what is sent), producer (sending, pacing, the report).
"""

from latentwatch.replay.messages import (
    BAD_KINDS,
    ENCODINGS,
    MAX_PRODUCIBLE_BYTES,
    bad_message,
    serialize_window,
    usable_bad_kinds,
)
from latentwatch.replay.plan import Plan, Window, merge_order, read_manifest, select_assets
from latentwatch.replay.producer import Pacer, ReplayReport, Sent, producer_settings, replay

__all__ = [
    "BAD_KINDS",
    "ENCODINGS",
    "MAX_PRODUCIBLE_BYTES",
    "Pacer",
    "Plan",
    "ReplayReport",
    "Sent",
    "Window",
    "bad_message",
    "merge_order",
    "producer_settings",
    "read_manifest",
    "replay",
    "select_assets",
    "serialize_window",
    "usable_bad_kinds",
]
