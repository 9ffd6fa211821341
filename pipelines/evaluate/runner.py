"""Run the protocol: per (data set, arrangement, seed) one split, one autoencoder, every scorer and baseline.

The autoencoder and its reference are built once per run by the production path, ``pipelines.fit.fit_bundle``,
with the evaluation's TrainSpec (its scaler and reference_dedup set from ``EvalConfig.scaler`` / ``.reference``);
the test rows are encoded and their latent neighbours found once, then every scorer reads that same ``Encoded``
batch. Scorers that learn a normalisation (ares-cal, ares-rank, nln) are fitted on the validation normals only.
Baselines get the same scaled rows (the model's own scaler) and the same split.

Training variants (``EvalConfig.variants``, pipelines/model/variants.py): one model per variant on the same split;
the scorers that can score it (``Scorer.variants``) run on it, named "<variant>:<scorer>" beside the plain
autoencoder's "<scorer>" (so "lfr:recon" is AE-LFR's L_A S_A, "lfr:lfr" its L_A S_B), each variant built with
``EvalConfig.variant_params[variant]`` (the run record's "variant_params" has them with their defaults).
``EvalConfig.contamination`` mixes anomalies into training and validation (pipelines/evaluate/contamination.py);
the setting's name says c.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from pipelines.batch_encoding import encode_batch, neighbours_needed
from pipelines.evaluate.baselines import BASELINES, OCSVM_MAX_TRAIN, run_baseline
from pipelines.evaluate.contamination import contaminate
from pipelines.evaluate.protocol import VAL_FRACTION, Arrangement, arrangements, make_split
from pipelines.evaluate.settings import (
    DEFAULT_REFERENCE,
    DEFAULT_SCALER,
    DEFAULT_SCORERS,
    DEFAULT_SPEC,
    scorer_params_for,
    spec_for,
)
from pipelines.fit import TrainSpec, fit_bundle
from pipelines.model.variants import REGISTRY as VARIANTS
from pipelines.scorers import REGISTRY, Scorer, make_scorer

REFERENCES = ("windows", "distinct")  # EvalConfig.reference -> TrainSpec.reference_dedup False / True


@dataclass
class EvalConfig:
    datasets: Sequence[str]
    seeds: Sequence[int] = (0, 1, 2)
    scorers: Sequence[str] = DEFAULT_SCORERS
    baselines: Sequence[str] = BASELINES
    spec: TrainSpec = DEFAULT_SPEC
    scaler: str = DEFAULT_SCALER  # "minmax" | "zscore"
    reference: str = DEFAULT_REFERENCE  # "windows" | "distinct"
    overrides: bool = True  # apply settings.OVERRIDES
    epochs: int | None = None  # overrides spec.epochs (smoke runs)
    scorer_params: dict[str, dict[str, Any]] = field(default_factory=dict)  # extra overrides per scorer name
    max_classes: int | None = None
    settings: Sequence[str] | None = None
    ocsvm_max_train: int = OCSVM_MAX_TRAIN
    data_dir: str | None = None
    variants: Sequence[str] = ("ae",)  # training variants, one model each (the first one's metrics are "model")
    contamination: float = 0.0  # anomalies mixed into training and validation, per normal
    # per training variant its hyperparameters (TrainSpec.variant_params of that variant's models), over the spec's
    variant_params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def check(self) -> None:
        """A clear error for an unknown variant, or a scorer that no model of the chosen variants can run."""
        bad = [v for v in self.variants if v not in VARIANTS]
        if bad or not self.variants:
            raise ValueError(f"unknown training variant(s) {bad}; choose from {sorted(VARIANTS)}")
        stray = sorted(set(self.variant_params) - set(self.variants))
        if stray:
            raise ValueError(f"variant_params for {stray}, which are not among the variants {list(self.variants)}")
        for v in self.variants:
            self.variant_spec(self.spec, v).make_variant()  # a bad parameter fails here, before any training
        for name in self.scorers:
            allowed = REGISTRY[name][0].variants if name in REGISTRY else None
            if allowed is not None and not set(allowed) & set(self.variants):
                raise ValueError(f"scorer {name!r} needs a training variant of {list(allowed)}: add it to variants")

    def spec_for(self, dataset: str) -> TrainSpec:
        if self.reference not in REFERENCES:
            raise ValueError(f"reference must be one of {REFERENCES}, got {self.reference!r}")
        spec = spec_for(dataset, self.spec) if self.overrides else self.spec
        spec = replace(spec, scaler=self.scaler, reference_dedup=self.reference == "distinct")
        return spec if self.epochs is None else replace(spec, epochs=int(self.epochs))

    def variant_spec(self, spec: TrainSpec, variant: str) -> TrainSpec:
        """The spec of this variant's models: the spec's own variant_params when it names the variant, with
        ``variant_params[variant]`` over them."""
        own = spec.variant_params if variant == spec.variant else {}
        try:
            return replace(spec, variant=variant, variant_params={**own, **self.variant_params.get(variant, {})})
        except ValueError as e:
            raise ValueError(f"variant_params of {variant!r}: {e}") from None

    def params_for(self, dataset: str, scorer: str) -> dict[str, Any]:
        base = scorer_params_for(dataset, scorer) if self.overrides else {}
        return {**base, **self.scorer_params.get(scorer, {})}


def metrics(y: np.ndarray, s: np.ndarray) -> dict[str, float]:
    s = np.asarray(s, dtype=np.float64)
    if not np.isfinite(s).all():  # an inf score (a zero LOF density) still ranks; NaN would not
        s = np.nan_to_num(
            s,
            nan=np.nanmax(s[np.isfinite(s)], initial=0.0),
            posinf=np.finfo(np.float64).max,
            neginf=np.finfo(np.float64).min,
        )
    return {"auroc": float(roc_auc_score(y, s)), "aupr": float(average_precision_score(y, s))}


def score_variant(
    X_tr: np.ndarray,
    X_va: np.ndarray,
    X_te: np.ndarray,
    y_te: np.ndarray,
    spec: TrainSpec,
    seed: int,
    scorers: dict[str, Scorer],
    prefix: str,
    methods: dict[str, Any],
) -> tuple[Any, dict[str, Any]]:
    """Train one model of spec's variant, run every scorer that can score it into ``methods`` (named with
    ``prefix``); returns the bundle and its metrics."""
    t0 = time.perf_counter()
    bundle = fit_bundle(X_tr, X_va, spec, seed=seed, progress=False)
    model, ref = bundle.model, bundle.reference
    scorers = {n: sc for n, sc in scorers.items() if sc.variants is None or spec.variant in sc.variants}
    k = neighbours_needed(ref, *scorers.values())
    t1 = time.perf_counter()
    enc_val = encode_batch(model, ref, X_va, k)
    enc_te = encode_batch(model, ref, X_te, k)
    encode_s = time.perf_counter() - t1
    for name, sc in scorers.items():
        t = time.perf_counter()
        sc.fit(enc_val, ref, model.decode)
        s = sc.score(enc_te, ref, model.decode).score
        methods[prefix + name] = {
            **metrics(y_te, s),
            "seconds": round(time.perf_counter() - t, 3),
            "params": sc.params(),
            **({"state": sc.state()} if sc.state() else {}),
        }
    extra = {"encode_seconds": round(encode_s, 3), "total_seconds": round(time.perf_counter() - t0, 3)}
    return bundle, {**bundle.metrics, **extra}


def run_one(X: np.ndarray, y: np.ndarray, arr: Arrangement, seed: int, cfg: EvalConfig) -> dict[str, Any]:
    """One arrangement and seed: split, train, score with every method. Returns the run record (JSON-ready)."""
    mixed = contaminate(make_split(y, arr, seed, VAL_FRACTION), y, arr, seed, cfg.contamination)
    split = mixed.split
    spec = cfg.spec_for(arr.dataset)
    X_tr, X_va, X_te, y_te = X[split.train], X[split.val], X[split.test], split.y_test
    methods: dict[str, Any] = {}
    models: dict[str, Any] = {}
    bundle = None
    variant_params: dict[str, Any] = {}
    for v in cfg.variants:
        scorers = {name: make_scorer(name, **cfg.params_for(arr.dataset, name)) for name in cfg.scorers}
        vspec = cfg.variant_spec(spec, v)
        variant_params[v] = vspec.make_variant().params()
        b, models[v] = score_variant(
            X_tr, X_va, X_te, y_te, vspec, seed, scorers, "" if v == "ae" else f"{v}:", methods
        )
        bundle = bundle or b
    assert bundle is not None
    model = bundle.model
    Xs_tr = model.scaler.transform(X_tr)
    Xs_te = model.scaler.transform(X_te)
    for name in cfg.baselines:
        t = time.perf_counter()
        s, used = run_baseline(name, Xs_tr, Xs_te, seed, n_components=spec.latent, ocsvm_max_train=cfg.ocsvm_max_train)
        methods[name] = {**metrics(y_te, s), "seconds": round(time.perf_counter() - t, 3), "params": used}
    sizes = split.sizes()
    if cfg.contamination:
        sizes.update(train_anomaly=mixed.train_anomalies, val_anomaly=mixed.val_anomalies)
    return {
        "dataset": arr.dataset,
        "setting": arr.setting + (f" c={cfg.contamination:g}" if cfg.contamination else ""),
        "class": arr.cls,
        "class_name": arr.cls_name,
        "seed": int(seed),
        "sizes": sizes,
        **({"contamination": {"asked": cfg.contamination, "achieved": mixed.achieved}} if cfg.contamination else {}),
        "spec": spec.to_dict(),
        "variant_params": variant_params,  # each variant's hyperparameters as its models were built, defaults included
        "model": models[cfg.variants[0]],
        **({"models": models} if len(models) > 1 else {}),
        "methods": methods,
    }


def _stats(v: list[float]) -> tuple[float, float]:
    a = np.asarray(v, dtype=np.float64)
    return float(a.mean()), float(a.std(ddof=0)) if len(a) > 1 else 0.0


def aggregate(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (data set, setting, method).

    mean: over all runs of the cell (seeds x classes). std: over the same runs, pooled (population std, ddof=0).
    std_seed: std over seeds of the per-seed average over classes (equal to std for single-class data sets).
    """
    cells: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in runs:
        cells.setdefault((r["dataset"], r["setting"]), []).append(r)
    out = []
    for (ds, setting), rs in cells.items():
        names = list(dict.fromkeys(m for r in rs for m in r["methods"]))
        for m in names:
            row: dict[str, Any] = {
                "dataset": ds,
                "setting": setting,
                "method": m,
                "runs": sum(m in r["methods"] for r in rs),
            }
            for metric in ("auroc", "aupr"):
                vals = [r["methods"][m][metric] for r in rs if m in r["methods"]]
                row[f"{metric}_mean"], row[f"{metric}_std"] = _stats(vals)
                per_seed: dict[int, list[float]] = {}
                for r in rs:
                    if m in r["methods"]:
                        per_seed.setdefault(r["seed"], []).append(r["methods"][m][metric])
                row[f"{metric}_std_seed"] = _stats([float(np.mean(v)) for v in per_seed.values()])[1]
            out.append(row)
    return out


def plan(cfg: EvalConfig, load: Callable[[str], Any]) -> list[tuple[Any, Arrangement, int]]:
    cfg.check()
    jobs = []
    for name in cfg.datasets:
        ds = load(name)
        for arr in arrangements(
            name, ds.kind, ds.class_names, tuple(cfg.settings) if cfg.settings else None, cfg.max_classes
        ):
            for seed in cfg.seeds:
                jobs.append((ds, arr, int(seed)))
    return jobs


def evaluate(
    cfg: EvalConfig, load: Callable[[str], Any], on_run: Callable[[int, int, dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """Run every job of the plan; returns {"runs": [...], "aggregates": [...], "seconds": total}."""
    t0 = time.perf_counter()
    jobs = plan(cfg, load)
    runs = []
    for i, (ds, arr, seed) in enumerate(jobs):
        rec = run_one(ds.X, ds.y, arr, seed, cfg)
        runs.append(rec)
        if on_run:
            on_run(i, len(jobs), rec)
    return {"runs": runs, "aggregates": aggregate(runs), "seconds": round(time.perf_counter() - t0, 3)}
