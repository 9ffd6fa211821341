"""Persistence and hysteresis on top of the thresholds' raw alarms, per asset: what the daemon and the SKAB evaluation
both decide with (``decide``).

A decision opens when at least ``m`` of the asset's last ``n`` windows passed the threshold (one spike alone does not
alarm), and holds until ``release`` windows in a row stay at or below it (a fault whose score dips under the limit
for a few windows stays one alarm). On release the history is cleared, so the windows that opened the last alarm
cannot reopen it at once. ``m = n = release = 1`` is the raw threshold alarm. Which setting SKAB chose, and how,
is in docs/evaluation.md (SKAB section).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipelines import defaults
from pipelines.protocols import Decisions


@dataclass(slots=True)  # one per asset: no __dict__
class _AssetState:
    recent: int = 0  # bit i set: the window i steps back passed the threshold (bit 0 = the latest)
    active: bool = False
    below: int = 0  # windows in a row at or below the threshold while active


class Persistence:
    def __init__(
        self, m: int = defaults.PERSIST_M, n: int = defaults.PERSIST_N, release: int = defaults.RELEASE_WINDOWS
    ) -> None:
        if not 1 <= m <= n:
            raise ValueError(f"persistence needs 1 <= m <= n, got m={m}, n={n}")
        if release < 1:
            raise ValueError(f"release must be >= 1, got {release}")
        self.m, self.n, self.release = int(m), int(n), int(release)
        self._mask = (1 << self.n) - 1
        self._assets: dict[str, _AssetState] = {}

    @classmethod
    def from_settings(cls, settings: Any) -> Persistence:
        """From the ``threshold`` config section (persist_m, persist_n, release_windows)."""
        return cls(settings.persist_m, settings.persist_n, settings.release_windows)

    @property
    def identity(self) -> bool:
        return self.m == self.n == self.release == 1

    def params(self) -> dict[str, int]:
        return {"m": self.m, "n": self.n, "release": self.release}

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        """For the shared round-trip check: the raw alarm, and a persistence with hysteresis."""
        yield {}
        yield {"m": 2, "n": 3, "release": 4}

    def step(self, asset: str, raw: bool) -> bool:
        s = self._assets.get(asset)
        if s is None:
            s = self._assets[asset] = _AssetState()
        s.recent = ((s.recent << 1) | int(raw)) & self._mask
        if s.active:
            s.below = 0 if raw else s.below + 1
            if s.below >= self.release:
                s.active, s.below, s.recent = False, 0, 0
        elif raw and bin(s.recent).count("1") >= self.m:
            s.active, s.below = True, 0
        return s.active

    def process(self, assets: Sequence[str], raw: np.ndarray) -> np.ndarray:
        """Decisions for windows in arrival order (each asset sees its own windows in order)."""
        raw = np.asarray(raw, dtype=bool)
        if len(assets) != raw.size:
            raise ValueError(f"{len(assets)} assets for {raw.size} alarms")
        if self.identity:
            return raw.copy()
        flags = raw.tolist()
        return np.fromiter((self.step(a, r) for a, r in zip(assets, flags, strict=True)), dtype=bool, count=raw.size)

    def forget(self, assets: Sequence[str]) -> None:
        """Drop assets (expired by the thresholds' idle rule): they start again with an empty history."""
        for a in assets:
            self._assets.pop(a, None)

    def state(self) -> dict[str, Any]:
        return {"params": self.params(), "assets": {a: [s.recent, s.active, s.below] for a, s in self._assets.items()}}

    @classmethod
    def from_state(cls, d: dict[str, Any]) -> Persistence:
        obj = cls(**d["params"])
        obj._assets = {a: _AssetState(int(r), bool(on), int(b)) for a, (r, on, b) in d["assets"].items()}
        return obj


def decide(
    bank: Any, persistence: Decisions | None, assets: Sequence[str], scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(decisions, thresholds): the bank's per-asset threshold, then persistence and hysteresis when given."""
    raw, thresholds = bank.process(assets, scores)
    if persistence is None:
        return raw, thresholds
    return persistence.process(assets, raw), thresholds
