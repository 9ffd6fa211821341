"""The shape every step of the daemon's chain shares (arroyo-style).

A step does one job on a ``Batch`` and hands it to ``next_step``. ``submit`` takes a batch in; ``poll`` makes
progress without new input (a batcher whose wait ran out, a commit waiting on the producer); ``join`` finishes all
in-flight work within a time bound (shutdown, rebalance). The steps only run on one thread at a time: the main loop,
or the consumer's rebalance listener while the main loop is blocked inside ``poll``.
"""

from __future__ import annotations

from typing import Protocol

from daemon.batch import Batch


class Step(Protocol):
    @property
    def next_step(self) -> Step | None: ...

    def submit(self, batch: Batch) -> None: ...

    def poll(self) -> None: ...

    def join(self, timeout_s: float) -> bool: ...


class PassStep:
    """Base for steps that transform a batch and pass it on; ``poll`` and ``join`` just propagate. Every subclass
    sets ``next_step`` in its constructor."""

    next_step: Step

    def submit(self, batch: Batch) -> None:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def poll(self) -> None:
        self.next_step.poll()

    def join(self, timeout_s: float) -> bool:
        return self.next_step.join(timeout_s)
