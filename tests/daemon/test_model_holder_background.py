"""The daemon's ModelHolder mode: a new version loads on a thread of its own while the loop keeps the old model, and
is swapped in by the loop, between batches, at a later turn; a failed load is refused, a version that stopped being
current while it loaded (a rollback) is dropped."""

from __future__ import annotations

import threading
from pathlib import Path

from daemon.model_holder import ModelHolder
from tests.daemon.test_model_holder import Clock, Store


class SlowStore(Store):
    """Loads of anything but v1 block until ``release`` is set, on whichever thread calls them."""

    def __init__(self) -> None:
        super().__init__()
        self.release, self.entered = threading.Event(), threading.Event()
        self.threads: list[str] = []

    def load(self, path):
        self.threads.append(threading.current_thread().name)
        if path.name != "v1":
            self.entered.set()
            assert self.release.wait(10), "the test never released the load"
        return super().load(path)


def background_holder(store: Store) -> tuple[ModelHolder, list]:
    swaps: list = []
    h = ModelHolder(
        Path("/a"),
        None,
        10.0,
        loader=store.load,
        resolver=store.resolve,
        clock=Clock(),
        on_swap=lambda old, new: swaps.append((old.version if old else None, new.version if new else None)),
        background=True,
    )
    h.load_initial()
    return h, swaps


def finish(h: ModelHolder) -> None:
    assert h.loading is not None and h.loading.wait(10)


def test_the_loop_keeps_the_old_model_while_the_new_one_loads_then_swaps_between_turns():
    store = SlowStore()
    h, swaps = background_holder(store)
    store.current = Path("/a/versions/v2")
    assert not h.maybe_swap(force=True)  # started the load, did not wait for it
    assert store.entered.wait(10)
    for _ in range(3):
        assert not h.maybe_swap(force=True) and h().version == "v1"
    assert store.loads.count(store.current) == 0 and store.threads[-1] == "model-load-v2"
    store.release.set()
    finish(h)
    assert h.maybe_swap() and h().version == "v2" and swaps == [("v1", "v2")]
    assert store.loads.count(store.current) == 1


def test_a_background_load_that_fails_is_refused_once_and_the_old_model_stays():
    store = Store()
    h, swaps = background_holder(store)
    store.current = Path("/a/versions/v-bad")
    store.broken.add(store.current)
    assert not h.maybe_swap(force=True)
    finish(h)
    assert not h.maybe_swap() and h().version == "v1" and swaps == [("v1", None)]
    assert not h.maybe_swap(force=True) and h.loading is None and store.loads.count(store.current) == 1


def test_a_version_rolled_back_while_it_loaded_is_dropped_and_the_pointer_followed():
    store = Store()
    h, swaps = background_holder(store)
    store.current = Path("/a/versions/v2")
    assert not h.maybe_swap(force=True)
    finish(h)
    loaded = h.loading.model  # type: ignore[union-attr]
    store.current = Path("/a/versions/v1")  # rolled back before the loop took v2
    assert not h.maybe_swap() and h().version == "v1" and swaps == [] and loaded.closed
    store.current = Path("/a/versions/v3")
    assert not h.maybe_swap()  # the dropped load asked for the pointer to be read again at once
    finish(h)
    assert h.maybe_swap() and h().version == "v3" and swaps == [("v1", "v3")]
