"""The configuration of `latentwatch bench scoring`: what it measures and on what (its ``__init__`` says how)."""

from __future__ import annotations

from dataclasses import dataclass

from latentwatch.bench.scoring.models import registered_scorers
from pipelines.reference.search import DEFAULT_FAR_EPS

ALL_SCORERS = registered_scorers()  # every scorer of pipelines.scorers.REGISTRY, each on a model it can score
PEERS = ("annoy-loop", "pyod-knn", "pyod-iforest", "search:exact", "search:exact-all", "search:annoy", "search:brute")


@dataclass(frozen=True)
class BenchConfig:
    sizes: tuple[int, ...] = (20_000, 100_000, 1_000_000)
    scorers: tuple[str, ...] | None = None  # None: every registered scorer the variants' models can run
    variants: tuple[str, ...] | None = None  # training variants, one model each; None: those the scorers need
    peers: tuple[str, ...] = PEERS
    batch: int = 1000
    queries: int = 5000
    rounds: int = 3
    max_seconds: float = 8.0
    data: str = "eopt"
    data_dir: str | None = None
    noise: float = 0.01
    reference: str = "counted"  # "counted": identical windows collapsed with counts (production); "windows"
    train_rows: int = 20_000
    epochs: int = 3
    latent: int = 8
    k: int = 10
    n_trees: int = 10
    search_k: int = 200
    threads: int = 2
    torch_threads: int = 1
    far_eps: float = DEFAULT_FAR_EPS
    brute_max: int = 100_000
    pyod_space: str = "input"
    seed: int = 0
    tune: bool = False
    tune_trees: tuple[int, ...] = (5, 10, 25, 50)
    tune_search_k: tuple[int, ...] = (-1, 100, 200, 500, 1000)
    tune_max: int = 100_000
    profile: bool = False
