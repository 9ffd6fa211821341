"""F1/FAR/MAR under SKAB's protocol (row (a): everything per file from its first 400 rows; test rows only).

latentwatch's rows are `latentwatch evaluate --protocol skab`'s: ``prepare`` + ``stream_all`` with SkabSettings'
defaults (only the scorer changed per row). Each peer gets, per file, the same 10-row flatten windows, min-max
scaled on the fit windows (latentwatch's slow-channel rule is not given to peers), and is fitted on all fit windows.
Its decisions come twice: from its own thresholding where the library has one (PyOD's ``threshold_``, River's
QuantileFilter), raw per window; and from latentwatch's decision path (SPOT at the same q and level, the same
persistence) started from the peer's calibration scores, cross-fitted like latentwatch's (5 contiguous blocks, each
scored by the peer fitted on the others, windows sharing rows with the block left out). streamad's SpotDetector
decides on latentwatch's own score stream (the first SKAB scorer's): its calibration scores, then the test scores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from latentwatch.bench.peers.adapters import streamad_spot_decisions
from latentwatch.bench.peers.config import PeersConfig
from latentwatch.bench.peers.registry import PEERS
from pipelines.evaluate.skab.metrics import FileDecisions, evaluate
from pipelines.evaluate.skab.protocol import FileStream, file_stream
from pipelines.evaluate.skab.runner import Prepared, prepare, report, select_runs, stream_all
from pipelines.evaluate.skab.settings import SkabSettings
from pipelines.model.scaler import Scaler
from pipelines.reference.assets import held_blocks


def binary(pooled: dict[str, Any]) -> dict[str, float]:
    b = pooled["binary"]
    return {"f1": float(b["f1"]), "far": float(b["far"]), "mar": float(b["mar"])}


def own_flags(streams: list[FileStream], flags: list[np.ndarray]) -> dict[str, float]:
    files = [FileDecisions(st.name, st.ts, st.anomaly, st.changepoint, f) for st, f in zip(streams, flags, strict=True)]
    return binary(evaluate(files))


def crossfit(make: Callable[[int], Any], X: np.ndarray, seed: int, gap: int, folds: int = 5) -> np.ndarray:
    """Each window's score from the peer fitted on the other blocks (less the windows within ``gap`` of its own)."""
    out = np.empty(len(X))
    for a, b in held_blocks(len(X), "crossfit", folds, 0.0):
        keep = np.r_[0 : max(0, a - gap), min(len(X), b + gap) : len(X)]
        peer = make(seed)
        peer.fit(X[keep])
        out[a:b] = peer.score(X[a:b])
    return out


def peer_file(name: str, st: FileStream, seed: int, gap: int) -> tuple[Prepared, np.ndarray | None]:
    make = PEERS[name].make
    assert make is not None
    scaler = Scaler.fit(st.X_fit, method="minmax")
    X_fit, X_test = scaler.transform(st.X_fit), scaler.transform(st.X_test)
    calibration = crossfit(make, X_fit, seed, gap)
    peer = make(seed)
    peer.fit(X_fit)
    scores = peer.score(X_test)
    return Prepared(st, calibration, scores), peer.decide(scores)


def run_skab(cfg: PeersConfig, runnable: list[str], log: Callable[[str], None]) -> dict[str, dict[str, Any]]:
    """{method: {"own": F1/FAR/MAR or None, "spot": F1/FAR/MAR or None}} pooled over the chosen subsets."""
    runs = select_runs(cfg.data_dir, list(cfg.skab_subsets))
    base = SkabSettings()
    out: dict[str, dict[str, Any]] = {}
    first: list[Prepared] | None = None
    for scorer in cfg.skab_scorers:
        s = base.with_(scorer=scorer)
        prepared = prepare("leaderboard", s, runs, cfg.data_dir)
        out[scorer] = {"own": binary(report(stream_all(prepared, s), "alarmed")["pooled"]), "spot": None}
        first = first or prepared
        log(f"skab {scorer}: {len(prepared)} files")
    streams = [p.stream for p in first] if first else None
    for name in runnable:
        if PEERS[name].make is None:
            if first is None or streams is None:
                continue
            flags = [streamad_spot_decisions(p.calibration, p.scores) for p in first]
            out[name] = {"own": own_flags(streams, flags), "spot": None, "on": cfg.skab_scorers[0]}
            continue
        files = [peer_file(name, file_stream(r, base), base.seed, base.length - 1) for r in runs]
        prepared_peer = [p for p, _ in files]
        decided = [d for _, d in files]
        flags = [d for d in decided if d is not None]
        own = own_flags([p.stream for p in prepared_peer], flags) if len(flags) == len(decided) else None
        out[name] = {"own": own, "spot": binary(report(stream_all(prepared_peer, base), "alarmed")["pooled"])}
        log(f"skab {name}: done")
    return out
