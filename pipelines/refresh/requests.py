"""The refresh requests the daemon leaves beside its checkpoint (``daemon/threshold_guard.py``, ``request_refresh``):
``{"format": 1, "requests": [{"asset", "reason", "source", "time"[, "since"]}, ...]}``.

A refresh reads them, takes a drift request's ``since`` (the event time of the drift: ISO-8601 or epoch ms) as
the start of that asset's new normal, and, after a successful publish, removes the entries it honoured by rewriting
the file atomically from what it holds then, so a request added while the refresh ran stays.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pipelines.artifact.store import atomic_write

FORMAT = 1


def read_requests(path: Path) -> list[dict[str, Any]]:
    """The pending requests ([] when the file is missing); a file that does not parse is an error naming it."""
    try:
        doc = json.loads(Path(path).read_bytes())
    except FileNotFoundError:
        return []
    except ValueError as e:
        raise ValueError(f"refresh requests {path}: not JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("requests"), list):
        raise ValueError(f"refresh requests {path}: expected {{'format': {FORMAT}, 'requests': [...]}}")
    return [r for r in doc["requests"] if isinstance(r, dict)]


def since_ms(value: Any) -> int:
    """Epoch ms from a request's ``since`` (epoch ms, or ISO-8601; a naive time is UTC)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        from datetime import UTC

        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def drift_since(requests: Sequence[dict[str, Any]]) -> dict[str, int]:
    """{asset: ts_ms} from the drift requests that carry ``since`` (the latest when an asset has several)."""
    out: dict[str, int] = {}
    for r in requests:
        if r.get("source") == "drift" and r.get("since") is not None and isinstance(r.get("asset"), str):
            out[r["asset"]] = max(out.get(r["asset"], -(2**62)), since_ms(r["since"]))
    return out


def _identity(r: dict[str, Any]) -> tuple[Any, ...]:
    return (r.get("asset"), r.get("source"), r.get("time"), r.get("since"))


def remove_honoured(path: Path, honoured: Sequence[dict[str, Any]]) -> int:
    """Rewrite the file without the honoured entries (matched by asset, source, time and since); returns how many
    were removed. Entries renewed or added since they were read stay."""
    done = {_identity(r) for r in honoured}
    try:
        pending = read_requests(path)
    except ValueError:
        return 0
    left = [r for r in pending if _identity(r) not in done]
    if len(left) != len(pending):
        atomic_write(Path(path), json.dumps({"format": FORMAT, "requests": left}, indent=1).encode())
    return len(pending) - len(left)
