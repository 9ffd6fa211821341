"""The shared state round-trip check (river-style): build an object from its own test parameters
(``_unit_test_params``), feed it part of a stream, save it, restore it, and require the restored object to behave
exactly like the one that ran on: the same outputs for the rest of the stream and the same saved state at the end.

Each package's test module gives the check its adapters (how to build, feed, save and restore that kind of object),
parametrised over its registry, so a class added there is checked without a new test."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Adapter:
    """How the check drives one kind of object. ``feed`` returns whatever the object answered for the chunk (its
    decisions, thresholds, events...); ``save`` returns what is stored (JSON-able, or with numpy arrays where the
    store keeps arrays); ``restore`` builds a new object from it."""

    build: Callable[[dict[str, Any]], Any]
    feed: Callable[[Any, Any], Any]
    save: Callable[[Any], Any]
    restore: Callable[[Any], Any]


def params_of(cls: type) -> Iterator[dict[str, Any]]:
    sets = list(cls._unit_test_params())  # type: ignore[attr-defined]
    assert sets, f"{cls.__name__}._unit_test_params() yields no parameter set"
    yield from sets


def check_round_trip(adapter: Adapter, params: dict[str, Any], chunks: Sequence[Any], cuts: Iterable[int]) -> None:
    """For each cut: run ``chunks[:cut]``, save and restore, then run the rest on both and compare, chunk by chunk,
    then the states they would save. Every output must be equal (NaN equal to NaN), not merely close."""
    for cut in cuts:
        original = adapter.build(dict(params))
        for chunk in chunks[:cut]:
            adapter.feed(original, chunk)
        restored = adapter.restore(adapter.save(original))
        for i, chunk in enumerate(chunks[cut:], start=cut):
            expected, got = adapter.feed(original, chunk), adapter.feed(restored, chunk)
            np.testing.assert_equal(got, expected, err_msg=f"chunk {i} after a restore at chunk {cut}")
        np.testing.assert_equal(
            adapter.save(restored), adapter.save(original), err_msg=f"saved state at the end, restored at chunk {cut}"
        )


def split(values: np.ndarray, sizes: Sequence[int]) -> list[np.ndarray]:
    """``values`` cut into consecutive chunks of the given sizes, cycled until the values run out."""
    out, at, i = [], 0, 0
    while at < len(values):
        out.append(values[at : at + sizes[i % len(sizes)]])
        at += sizes[i % len(sizes)]
        i += 1
    return out
