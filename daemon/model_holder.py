"""The one reference to the model the daemon scores with, replaceable between batches (hot swap).

With ``artifact.root`` it follows ``root/current``: every ``check_interval_s`` it reads the pointer and, when it names
another version, loads and verifies it; a version that fails to load is logged and the old model stays. With
``artifact.path`` the model is pinned and never swapped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("daemon.model")


def _default_loader(path: Path) -> Any:
    from pipelines.online import OnlineModel

    model = OnlineModel.load(path)
    model.warm_up()  # before it is used (first load) or swapped in: no batch waits for the one-time work
    for _ in (model.asset_calibration or {}).values():  # reads and hashes every per-asset shard now, so a corrupt
        pass  # one refuses the version here instead of failing the threshold bank after the swap
    return model


def _default_resolver(root: Path) -> Path:
    from pipelines.artifact.store import resolve_current

    return resolve_current(root)


class ModelHolder:
    def __init__(
        self,
        root: Path | None,
        path: Path | None,
        check_interval_s: float,
        loader: Callable[[Path], Any] = _default_loader,
        resolver: Callable[[Path], Path] = _default_resolver,
        clock: Callable[[], float] = time.monotonic,
        on_swap: Callable[[Any, Any], None] | None = None,
    ) -> None:
        self.root, self.pinned = root, path
        self.check_interval_s = check_interval_s
        self.loader, self.resolver, self.clock = loader, resolver, clock
        self.on_swap = on_swap or (lambda old, new: None)
        self.model: Any = None
        self.path: Path | None = None
        self.failed: dict[Path, str] = {}
        self._next_check = 0.0

    def load_initial(self) -> Any:
        """Load the first model; raise if there is none (the daemon cannot score without one)."""
        if self.pinned is not None:
            path = self.pinned
        elif self.root is not None:
            path = self.resolver(self.root)
        else:
            raise ValueError("ModelHolder needs an artifact root or a pinned artifact path; both are None")
        self.model, self.path = self.loader(Path(path)), Path(path)
        self._next_check = self.clock() + self.check_interval_s
        log.info("model_loaded", version=self.model.version, path=str(self.path), dim=self.model.dim)
        return self.model

    def __call__(self) -> Any:
        return self.model

    def maybe_swap(self, force: bool = False) -> bool:
        """Between batches only: swap in the version ``current`` points to, if it is new and loads. True if swapped."""
        if self.pinned is not None or self.root is None:
            return False
        now = self.clock()
        if not force and now < self._next_check:
            return False
        self._next_check = now + self.check_interval_s
        try:
            path = Path(self.resolver(self.root))
        except Exception as e:  # a missing or torn pointer keeps the current model
            log.warning("artifact_pointer_unreadable", root=str(self.root), error=str(e))
            return False
        if path == self.path or path in self.failed:
            return False
        try:
            new = self.loader(path)
            if self.model is not None and new.dim != self.model.dim:
                raise ValueError(f"input width {new.dim} differs from the running model's {self.model.dim}")
        except Exception as e:
            self.failed[path] = str(e)
            log.error("model_swap_refused", path=str(path), error=str(e), keeping=str(self.path))
            self.on_swap(self.model, None)
            return False
        old, self.model, self.path = self.model, new, path
        log.info("model_swapped", old_version=getattr(old, "version", None), new_version=new.version, path=str(path))
        self.on_swap(old, new)
        return True
