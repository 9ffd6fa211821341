"""Every stateful class in pipelines/threshold/ (SPOT, DSPOT, the per-asset bank, persistence) survives a save and
restore mid-stream with bit-identical decisions after it (tests/pipelines/round_trip.py), in each way it is saved:
``state`` as JSON, and for detectors also ``to_array`` (how the bank spills an idle asset) and for the bank
``compact_state`` (what the checkpoint holds)."""

from __future__ import annotations

import copy
import importlib
import json
import pkgutil
from typing import Any

import numpy as np
import pytest

import pipelines.threshold
from pipelines.threshold.bank import ThresholdBank
from pipelines.threshold.dspot import DSPOT
from pipelines.threshold.persistence import Persistence
from pipelines.threshold.spot import SPOT
from tests.pipelines.round_trip import Adapter, check_round_trip, params_of, split

ASSETS = ("a0", "a1", "a2")


def _stream(seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(calibration, stream, one asset's own calibration): Exp(1) scores, the stream with a level shift of +2.5 over
    windows 1200-1900 (normal moving: DSPOT follows it, the runaway guard holds a SPOT fit), three times the spread
    over 2400-3000 (the guard holds a DSPOT fit too) and a few spikes."""
    rng = np.random.default_rng(seed)
    stream = rng.exponential(size=3600)
    stream[1200:1900] += 2.5
    stream[2400:3000] *= 3.0
    stream[rng.choice(3600, 12, replace=False)] += 12.0
    return rng.exponential(size=3000), stream, rng.exponential(size=1500) * 1.3


CALIBRATION, STREAM, OWN = _stream()
CHUNKS = split(STREAM, [97, 1, 250, 13])
CUTS = (1, 9, len(CHUNKS) // 2, len(CHUNKS) - 2)


def _json(obj: Any) -> Any:
    return json.loads(json.dumps(obj))


def _detector(kind: type[SPOT]) -> Any:
    def build(params: dict[str, Any]) -> SPOT:
        det = kind(**params)
        det.initialize(CALIBRATION)
        return det

    def feed(det: SPOT, chunk: np.ndarray) -> Any:
        alarms, thr = det.update(chunk)
        return alarms, thr, det.take_trips(), det.guard

    return build, feed


def _detector_adapters(kind: type[SPOT]) -> dict[str, Adapter]:
    build, feed = _detector(kind)
    return {
        "state": Adapter(build, feed, lambda d: _json(d.state()), kind.from_state),
        # a held fit is only saved by state() (to_array refuses it); the bank then keeps it live
        "array": Adapter(
            build,
            feed,
            lambda d: d.state() if d.guard else (d.to_array(), d.params()),
            lambda s: kind.from_state(s) if isinstance(s, dict) else kind.from_array(*s),
        ),
    }


def _bank_adapters() -> dict[str, Adapter]:
    assets = [ASSETS[i % 3] for i in range(max(len(c) for c in CHUNKS))]
    own = {"a1": OWN}

    def build(params: dict[str, Any]) -> ThresholdBank:
        return ThresholdBank(params.pop("method"), CALIBRATION, own, **params)

    def feed(bank: ThresholdBank, chunk: np.ndarray) -> Any:
        alarms, thr = bank.process(assets[: chunk.size], chunk)
        out = alarms, thr, bank.last_n_peaks.copy(), bank.take_guard_trips(), bank.guarded()
        bank.spill() if chunk.size > 50 else None  # assets idle since the last spill get packed, as at a checkpoint
        return out

    return {
        "state": Adapter(build, feed, lambda b: _json(b.state()), lambda s: ThresholdBank.from_state(s, own)),
        "compact": Adapter(
            build,
            feed,
            lambda b: copy.deepcopy(b.compact_state()),
            lambda s: ThresholdBank.from_state(copy.deepcopy(s), own),
        ),
    }


def _persistence_adapters() -> dict[str, Adapter]:
    assets = [ASSETS[i % 3] for i in range(max(len(c) for c in CHUNKS))]

    def feed(p: Persistence, chunk: np.ndarray) -> Any:
        return p.process(assets[: chunk.size], chunk > 2.0)

    return {
        "state": Adapter(lambda params: Persistence(**params), feed, lambda p: _json(p.state()), Persistence.from_state)
    }


ADAPTERS: dict[type, dict[str, Adapter]] = {
    SPOT: _detector_adapters(SPOT),
    DSPOT: _detector_adapters(DSPOT),
    ThresholdBank: _bank_adapters(),
    Persistence: _persistence_adapters(),
}
CASES = [
    pytest.param(cls, mode, params, id=f"{cls.__name__}-{mode}-{i}")
    for cls, modes in ADAPTERS.items()
    for mode in modes
    for i, params in enumerate(params_of(cls))
]


def _stateful_classes() -> set[type]:
    """Public classes defined in pipelines/threshold/ that save a state."""
    found = set()
    for info in pkgutil.iter_modules(pipelines.threshold.__path__):
        mod = importlib.import_module(f"pipelines.threshold.{info.name}")
        found |= {
            obj
            for name, obj in vars(mod).items()
            if isinstance(obj, type)
            and not name.startswith("_")
            and obj.__module__ == mod.__name__
            and callable(getattr(obj, "state", None))
        }
    return found


def test_every_stateful_threshold_class_is_checked():
    assert _stateful_classes() == set(ADAPTERS)


@pytest.mark.parametrize(("cls", "mode", "params"), CASES)
def test_restored_mid_stream_decides_the_same(cls, mode, params):
    check_round_trip(ADAPTERS[cls][mode], params, CHUNKS, CUTS)


@pytest.mark.parametrize("cls", [SPOT, DSPOT])
def test_the_stream_exercises_alarms_peaks_and_the_guard(cls):
    """What the round trip above has to carry: alarms, stream peaks, and, with some parameter set, a held fit."""
    build, feed = _detector(cls)
    held = False
    for params in params_of(cls):
        det = build(dict(params))
        outs = [feed(det, c) for c in CHUNKS]
        assert sum(int(o[0].sum()) for o in outs) > 0 and len(det.peaks) > len(build(dict(params)).peaks)
        held |= any(o[3] for o in outs)
    assert held, f"no {cls.__name__} test parameter set holds its fit on this stream"
