"""The input message's schema and why a message is refused.

One Kafka message per window, keyed by asset::

    {"schema": 1, "asset": "pump-7", "ts": "2024-05-01T12:00:00Z" | 1714564800000, "values": [0.1, ...], "meta": {}}

or the compact binary form of the same fields (``daemon/wire/binary_codec.py``); the two mix freely in a batch.
``ts`` is ISO-8601 or epoch ms, 0 <= ms < 10^14 either way. A message that cannot become a window is an
``InvalidMessage`` whose ``reason`` (one of ``Reason``) the dead-letter topic carries in its ``reason`` header.
"""

from __future__ import annotations

SCHEMA_VERSION = 1
REQUIRED_FIELDS = ("schema", "asset", "ts", "values")
MAX_TS_MS = 10**14


class Reason:
    MALFORMED_JSON = "malformed_json"
    NOT_UTF8 = "not_utf8"
    MISSING_FIELD = "missing_field"
    INVALID_FIELD = "invalid_field"
    WRONG_LENGTH = "wrong_length"
    NON_FINITE = "non_finite"
    NON_NUMERIC = "non_numeric"
    OVERSIZED = "oversized"
    UNKNOWN_SCHEMA = "unknown_schema"
    MALFORMED_BINARY = "malformed_binary"

    ALL = (
        MALFORMED_JSON,
        NOT_UTF8,
        MISSING_FIELD,
        INVALID_FIELD,
        WRONG_LENGTH,
        NON_FINITE,
        NON_NUMERIC,
        OVERSIZED,
        UNKNOWN_SCHEMA,
        MALFORMED_BINARY,
    )


class InvalidMessage(Exception):
    """A message that cannot become a window; ``reason`` is one of ``Reason``, ``detail`` says what was wrong."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
