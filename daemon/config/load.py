"""YAML to ``Config``: the loader walks the YAML against the sections' type hints, expands ``${ENV}`` references,
resolves relative paths against the working directory, and runs every section's ``check``."""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml

from daemon.config.base import ConfigError, Invalid, Secret
from daemon.config.root import Config

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
NOT_FROM_YAML = {"source"}  # set by load_config (the file it read), never by the YAML


class _Loader:
    def __init__(self, path: Path, env: Mapping[str, str]) -> None:
        self.path = path
        self.env = env

    def fail(self, key: str | None, message: str) -> typing.NoReturn:
        raise ConfigError(self.path, key, message)

    def expand(self, key: str, value: str) -> str:
        def sub(m: re.Match[str]) -> str:
            if m.group(1) not in self.env:
                self.fail(key, f"environment variable {m.group(1)} is referenced but not set")
            return self.env[m.group(1)]

        return _ENV_REF.sub(sub, value)

    def section(self, cls: type, raw: Any, key: str) -> Any:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            self.fail(key or None, f"expected a mapping (section {cls.__name__}), got {type(raw).__name__}")
        hints = typing.get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls)} - NOT_FROM_YAML
        unknown = sorted(str(k) for k in raw if k not in names)
        if unknown:
            self.fail(_join(key, unknown[0]), f"unknown key (known here: {', '.join(sorted(names))})")
        values = {name: self.value(hints[name], raw[name], _join(key, name)) for name in names if name in raw}
        obj = cls(**values)
        try:
            obj.check() if hasattr(obj, "check") else None
        except Invalid as e:
            shown = "<secret>" if "password" in e.key else repr(_dig(obj, e.key))
            self.fail(_join(key, e.key), f"expected {e.expected}, got {shown}")
        return obj

    def value(self, tp: Any, raw: Any, key: str) -> Any:
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            if raw is None and type(None) in args:
                return None
            inner = [a for a in args if a is not type(None)]
            if len(inner) == 1:
                return self.value(inner[0], raw, key)
            self.fail(key, f"unsupported union {tp}")
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            return self.section(tp, raw, key)
        if isinstance(raw, str):
            raw = self.expand(key, raw)
        if origin is Literal:
            if raw not in args:
                self.fail(key, f"expected one of {', '.join(map(str, args))}, got {raw!r}")
            return raw
        if tp is Secret:
            if not isinstance(raw, str):
                self.fail(key, "expected a string (or a ${ENV} reference)")
            return Secret(raw)
        if tp is bool:
            if not isinstance(raw, bool):
                self.fail(key, f"expected true or false, got {raw!r}")
            return raw
        if tp is int:
            if isinstance(raw, bool) or not isinstance(raw, int):
                self.fail(key, f"expected an integer, got {raw!r}")
            return raw
        if tp is float:
            if isinstance(raw, str):
                try:
                    raw = float(raw)  # YAML reads 1e-4 (no dot) as a string
                except ValueError:
                    pass
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                self.fail(key, f"expected a number, got {raw!r}")
            return float(raw)
        if tp is str:
            if not isinstance(raw, str):
                self.fail(key, f"expected a string, got {raw!r}")
            return raw
        if tp is Path:
            if not isinstance(raw, str) or not raw:
                self.fail(key, f"expected a path string, got {raw!r}")
            return Path(raw).expanduser().absolute()
        if origin is tuple:
            if isinstance(raw, str):
                raw = [s.strip() for s in raw.split(",") if s.strip()]
            if not isinstance(raw, list):
                self.fail(key, f"expected a list (or a comma-separated string), got {raw!r}")
            return tuple(self.value(args[0], v, f"{key}[{i}]") for i, v in enumerate(raw))
        if origin is dict:
            if raw is None:
                return {}
            if not isinstance(raw, dict):
                self.fail(key, f"expected a mapping, got {raw!r}")
            return {str(k): self.expand(f"{key}.{k}", v) if isinstance(v, str) else v for k, v in raw.items()}
        self.fail(key, f"unsupported type {tp}")


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _dig(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part, None) if not isinstance(obj, dict) else obj.get(part)
    return obj


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read, type-check and validate the YAML at ``path``; raise ``ConfigError`` naming the key and the file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(path, None, f"cannot read: {e.strerror or e}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(path, None, f"not valid YAML: {e}") from None
    if raw is None or raw == {}:  # a truncated or wrong file would otherwise run on every default (127.0.0.1:19092)
        raise ConfigError(
            path,
            None,
            "holds no settings (empty, or only comments); a config names at least its "
            "kafka section (see conf/local.yaml)",
        )
    loader = _Loader(path, os.environ if env is None else env)
    cfg: Config = loader.section(Config, raw, "")
    return dataclasses.replace(cfg, source=path.absolute())
