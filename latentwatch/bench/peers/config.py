"""What one `latentwatch bench peers` run compares: the quick default, and every choice the command line can make."""

from __future__ import annotations

from dataclasses import dataclass

from latentwatch.bench.peers.registry import PEERS

LATENTWATCH_SCORERS = ("ares", "nln", "recon")


@dataclass(frozen=True)
class PeersConfig:
    peers: tuple[str, ...] = tuple(PEERS)
    scorers: tuple[str, ...] = LATENTWATCH_SCORERS  # latentwatch's, on the ARES-protocol sets
    datasets: tuple[str, ...] = ("snsr", "nasa")  # `latentwatch evaluate`'s names; () skips the AUROC part
    seeds: tuple[int, ...] = (0,)
    max_classes: int | None = 2  # multi-class sets: the first classes only (None: all, as `latentwatch evaluate`)
    settings: tuple[str, ...] | None = None  # multi-class settings (None: unimodal and multimodal)
    epochs: int | None = None  # the autoencoder's epoch cap (None: the protocol's 350 with early stopping)
    max_train: int = 10_000  # streaming peers and PyOD's AutoEncoder fit on at most this many (seeded) windows
    skab_subsets: tuple[str, ...] = ("valve1",)  # () skips the SKAB part
    skab_scorers: tuple[str, ...] = ("recon",)  # the first one's scores also feed streamad's SpotDetector
    throughput_rows: int = 2_000  # windows scored per round, from the first AUROC run's test rows
    batch: int = 250
    rounds: int = 3
    data_dir: str | None = None

    def check(self) -> None:
        bad = [p for p in self.peers if p not in PEERS]
        if bad:
            raise ValueError(f"unknown peer(s) {bad}; choose from {', '.join(PEERS)}")
        if self.max_train < 10 or self.batch < 1 or self.rounds < 1 or self.throughput_rows < self.batch:
            raise ValueError("need max_train >= 10, batch >= 1, rounds >= 1 and throughput_rows >= batch")
