"""Run SKAB's two latentwatch rows: build each asset's OnlineModel, stream its test windows, score the decisions.

A method is one SkabSettings: a training variant and a scorer (``methods`` lists them for ``--variants`` and
``--scorers``); every method goes through the same rows, streams and decision path."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipelines.data import load_skab_anomaly_free, load_skab_runs
from pipelines.data.skab import SkabRun
from pipelines.data.windowing import window_vectors
from pipelines.evaluate.skab.metrics import evaluate
from pipelines.evaluate.skab.models import deployment_asset, deployment_base, leaderboard_model, make_variant
from pipelines.evaluate.skab.protocol import FileStream, StreamResult, decisions, file_stream, score_stream, stream_file
from pipelines.evaluate.skab.settings import SUBSETS, SkabSettings, subset_of

ROWS = ("leaderboard", "deployment")
FLAGGED = ("alarmed", "episode")


@dataclass
class Prepared:
    stream: FileStream
    calibration: np.ndarray  # the asset's calibration scores (its thresholds start from them)
    scores: np.ndarray  # OnlineModel.score of each test window


def select_runs(data_dir: str | None, subsets: Sequence[str]) -> list[SkabRun]:
    unknown = sorted(set(subsets) - set(SUBSETS))
    if unknown:
        raise ValueError(f"unknown SKAB subset(s) {unknown}; choose from {list(SUBSETS)}")
    return [r for r in load_skab_runs(data_dir) if subset_of(r.name) in subsets]


def check_method(s: SkabSettings) -> None:
    """A clear error, before any training, for a variant or its parameters that cannot be built, or a scorer that
    cannot score a model of the variant."""
    from pipelines.scorers import REGISTRY

    make_variant(s)
    if s.scorer not in REGISTRY:
        raise ValueError(f"unknown scorer {s.scorer!r}; choose from {sorted(REGISTRY)}")
    allowed = REGISTRY[s.scorer][0].variants
    if allowed is not None and s.variant not in allowed:
        raise ValueError(f"scorer {s.scorer!r} scores models of {' or '.join(allowed)}, not of {s.variant!r}")


def methods(
    s: SkabSettings,
    variants: Sequence[str] = ("ae",),
    scorers: Sequence[str] | None = None,
    variant_params: dict[str, dict[str, Any]] | None = None,
    scorer_params: dict[str, dict[str, Any]] | None = None,
) -> list[SkabSettings]:
    """The settings of each method to run: per training variant, each of ``scorers`` that can score its models.
    scorers None: the settings' scorer on "ae", and on any other variant the scorers made for it (those whose
    ``Scorer.variants`` name it: lfr's S_B, the VAE's ELBO and reconstruction probability, ...), found in the
    registry. ``scorer_params``: {scorer: hyperparameters} over the settings' own. A scorer that runs on none of the
    variants, or a variant left with no scorer, is an error."""
    from pipelines.model.variants import REGISTRY as VARIANTS
    from pipelines.scorers import REGISTRY, can_score

    bad = [v for v in variants if v not in VARIANTS]
    if bad or not variants:
        raise ValueError(f"unknown training variant(s) {bad}; choose from {sorted(VARIANTS)}")
    params = variant_params or {}
    out: list[SkabSettings] = []
    for v in variants:
        if scorers is not None:
            names = [n for n in scorers if n not in REGISTRY or can_score(n, [v])]
        elif v == "ae":
            names = [s.scorer]
        else:
            names = [n for n, (cls, _) in REGISTRY.items() if cls.variants is not None and v in cls.variants]
        if not names:
            raise ValueError(f"no scorer of {list(scorers or [])} scores models of training variant {v!r}")
        for n in names:
            m = s.with_(
                variant=v,
                variant_params=dict(params.get(v, {})),
                scorer=n,
                scorer_params={**(s.scorer_params if n == s.scorer else {}), **(scorer_params or {}).get(n, {})},
            )
            check_method(m)
            out.append(m)
    for n in scorers or ():
        if not any(m.scorer == n for m in out):
            raise ValueError(f"scorer {n!r} scores none of the training variants {list(variants)}")
    return out


def prepare(
    row: str,
    s: SkabSettings,
    runs: Sequence[SkabRun],
    data_dir: str | None = None,
    progress: Callable[[str], None] | None = None,
    whole: bool = False,
) -> list[Prepared]:
    """Each file's stream and OnlineModel for row "leaderboard" (a) or "deployment" (b)."""
    if row not in ROWS:
        raise ValueError(f"unknown row {row!r}; choose from {list(ROWS)}")
    check_method(s)
    base = None
    if row == "deployment":
        free = load_skab_anomaly_free(data_dir)
        base = deployment_base(window_vectors(free.values, s.length, 1, s.mode), s, np.asarray(free.values))
    out = []
    for r in runs:
        t0 = time.perf_counter()
        stream = file_stream(r, s, whole)
        if base is None:
            online = leaderboard_model(stream.X_fit, s, r.name, stream.fit_rows)
        else:
            online = deployment_asset(base[0], base[1], stream.X_fit, stream.fit_rows, s, r.name)
        out.append(Prepared(stream, online.calibration, score_stream(online, stream.X_test)))
        online.close()
        if progress:
            progress(f"{row} {r.name}: {time.perf_counter() - t0:.1f}s")
    return out


def stream_all(prepared: Sequence[Prepared], s: SkabSettings) -> list[tuple[FileStream, StreamResult]]:
    return [(p.stream, stream_file(p.calibration, p.scores, p.stream, s)) for p in prepared]


def report(results: Sequence[tuple[FileStream, StreamResult]], flagged: str) -> dict[str, Any]:
    """Scores pooled over all files and per subset, for one flag series."""
    files = [decisions(st, res, flagged) for st, res in results]
    out = {"pooled": evaluate(files)}
    for sub in SUBSETS:
        part = [f for f in files if subset_of(f.name) == sub]
        if part:
            out[sub] = evaluate(part)
    return out


def per_file(results: Sequence[tuple[FileStream, StreamResult]]) -> list[dict[str, Any]]:
    out = []
    for st, res in results:
        a = st.anomaly[st.lead :] != 0
        out.append(
            {
                "file": st.name,
                "rows": int(len(st.ts)),
                "anomalous": int(a.sum()),
                "alarmed": int(res.alarmed.sum()),
                "in_episode": int(res.in_episode.sum()),
                "episodes": res.episodes,
                "alarmed_in_fault": int((res.alarmed & a).sum()),
                "score_median_normal": float(np.median(res.scores[~a])) if (~a).any() else None,
                "score_median_fault": float(np.median(res.scores[a])) if a.any() else None,
            }
        )
    return out
