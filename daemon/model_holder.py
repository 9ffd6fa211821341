"""The one reference to the model the daemon scores with, replaceable between batches (hot swap).

With ``artifact.root`` it follows ``root/current``: every ``check_interval_s`` it reads the pointer and, when it names
another version, loads and verifies it; a version that fails to load is logged and the old model stays. With
``artifact.path`` the model is pinned and never swapped.

``background=True`` (the daemon): the load, its verification and warm-up (hundreds of ms to seconds: hashing,
torch, the neighbour index, the explanation's gains) run on a thread of their own while the loop keeps scoring with
the old model; the loop takes the loaded model at its next turn, between batches as before. What is left in the loop
is the swap itself: the threshold rebase and closing the old model (``latentwatch bench refresh`` measures it).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("daemon.model")

LOAD_NICE = 10  # added to the background load thread's nice value


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


class _Load:
    """One version loading on a thread of its own; ``result`` once ``done``."""

    def __init__(self, loader: Callable[[Path], Any], path: Path) -> None:
        self.path = path
        self.model: Any = None
        self.error: Exception | None = None
        self._done = threading.Event()
        threading.Thread(target=self._run, args=(loader,), name=f"model-load-{path.name}", daemon=True).start()

    def _run(self, loader: Callable[[Path], Any]) -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOAD_NICE)  # Linux: this thread only (and
        except (AttributeError, OSError):  # the torch workers it starts): the loop's scoring and the producer's
            pass  # sender thread keep the cores while the new version loads and warms up
        try:
            self.model = loader(self.path)
        except Exception as e:
            self.error = e
        finally:
            self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout_s: float) -> bool:
        return self._done.wait(timeout_s)

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.model


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
        background: bool = False,
    ) -> None:
        self.root, self.pinned = root, path
        self.check_interval_s = check_interval_s
        self.loader, self.resolver, self.clock = loader, resolver, clock
        self.on_swap = on_swap or (lambda old, new: None)
        self.model: Any = None
        self.path: Path | None = None
        self.failed: dict[Path, str] = {}
        self.background = background
        self.loading: _Load | None = None
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
        """Between batches only: swap in the version ``current`` points to, if it is new and loads. True if swapped.
        In the background mode a new version is loaded on its own thread and swapped in at a later call."""
        if self.pinned is not None or self.root is None:
            return False
        if self.loading is not None:
            if not self.loading.done():
                return False
            job, self.loading = self.loading, None
            return self._take(job.path, job.result, recheck=True)
        now = self.clock()
        if not force and now < self._next_check:
            return False
        self._next_check = now + self.check_interval_s
        path = self._current()
        if path is None or path == self.path or path in self.failed:
            return False
        if self.background:
            self.loading = _Load(self.loader, path)
            return False
        return self._take(path, lambda: self.loader(path))

    def _current(self) -> Path | None:
        try:
            return Path(self.resolver(self.root))  # type: ignore[arg-type]  # maybe_swap checked it
        except Exception as e:  # a missing or torn pointer keeps the current model
            log.warning("artifact_pointer_unreadable", root=str(self.root), error=str(e))
            return None

    def _take(self, path: Path, load: Callable[[], Any], recheck: bool = False) -> bool:
        """Swap in what ``load`` gives, or refuse it. ``recheck`` (a background load): the pointer may have moved
        while it loaded (a rollback); a version no longer current is dropped and the pointer read again."""
        try:
            new = load()
            if self.model is not None and new.dim != self.model.dim:
                raise ValueError(f"input width {new.dim} differs from the running model's {self.model.dim}")
        except Exception as e:
            self.failed[path] = str(e)
            log.error("model_swap_refused", path=str(path), error=str(e), keeping=str(self.path))
            self.on_swap(self.model, None)
            return False
        if recheck and self._current() != path:
            log.info("model_load_superseded", path=str(path), keeping=str(self.path))
            new.close()
            self._next_check = 0.0
            return False
        old, self.model, self.path = self.model, new, path
        log.info("model_swapped", old_version=getattr(old, "version", None), new_version=new.version, path=str(path))
        self.on_swap(old, new)
        return True
