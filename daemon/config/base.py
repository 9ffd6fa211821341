"""What every config section shares: the error a bad config raises, ``Secret``, the checks' helpers and the mark of
a setting a running daemon takes on SIGHUP."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

# ``field(metadata=LIVE)``: a re-read config's value replaces the running one on SIGHUP (``daemon/reload.py``).
LIVE: Mapping[str, Any] = MappingProxyType({"reload": "live"})


def is_live(metadata: Mapping[str, Any]) -> bool:
    return metadata.get("reload") == "live"


def doc(text: str, *, live: bool = False) -> Mapping[str, Any]:
    """``field(metadata=doc(...))``: what the key does, for ``latentwatch config reference`` (the README's config
    reference is its output); ``live=True`` also marks the key ``LIVE``."""
    return MappingProxyType({**(LIVE if live else {}), "doc": text})


class ConfigError(ValueError):
    """A configuration problem, always naming the file and, where there is one, the dotted key."""

    def __init__(self, path: str | Path, key: str | None, message: str) -> None:
        self.path = str(path)
        self.key = key
        self.message = message
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"{where}: {message}")


class Secret:
    """A string that never shows itself in repr, str, f-strings or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


class Invalid(Exception):
    """Raised inside a section's checks; the loader adds the file and the dotted prefix."""

    def __init__(self, key: str, expected: str) -> None:
        super().__init__(key, expected)
        self.key = key
        self.expected = expected


def require(ok: bool, key: str, expected: str) -> None:
    if not ok:
        raise Invalid(key, expected)
