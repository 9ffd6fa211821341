"""The daemon's one entry into computation: load a verified artifact, score a batch.

A batch is encoded once; its windows are then grouped by the reference they are scored against (their asset's own,
``pipelines.reference.fleet``, else the global one) and each group is searched and scored in one call. Every
window also gets the sensors that drive its score (``pipelines.explain``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from pipelines import explain
from pipelines.artifact import codec
from pipelines.artifact.assets import is_shard, load_asset_references
from pipelines.artifact.store import ArtifactError, read_pointer, verify
from pipelines.batch_encoding import encode_batch, neighbours_needed
from pipelines.model.frozen import FrozenModel
from pipelines.reference.build import Reference
from pipelines.reference.fleet import AssetReferences, Gathered, gather
from pipelines.scorers import Encoded, Scorer

GLOBAL = "global"
_UNSET: Any = object()
MAX_NEIGHBOURS = 10  # neighbour window ids carried per window (alerts show them)


@dataclass(frozen=True)
class ScoredBatch:
    """One batch's scores. The sensors that drive each window (``pipelines.explain``) cost one decoder pass per
    sensor, and only alerts read them, so they are computed for the whole batch on first use (``explainer``): a
    batch in which no window alarms never pays for them."""

    score: np.ndarray  # float64 [B]
    components: dict[str, np.ndarray]  # name -> float64 [B]
    neighbours: np.ndarray  # int64 [B, m]: window ids in the reference used, nearest first (-1 pads)
    reference: list[str] | None = None  # per window: "global" or "asset:<key>"
    sensor_names: tuple[str, ...] = ()
    # () -> (sensor (group) index int64 [B, TOP], largest share first; their shares float64 [B, TOP])
    explainer: Callable[[], tuple[np.ndarray, np.ndarray]] | None = field(default=None, repr=False, compare=False)
    recon_error: np.ndarray | None = None  # float64 [B]: the plain reconstruction error, whatever the scorer

    @property
    def _top(self) -> tuple[np.ndarray, np.ndarray] | None:
        # memoised per instance by hand: functools.cached_property (Python < 3.12) holds one lock for every
        # instance, so a version warming up on the daemon's load thread (seconds of gains) made the loop's alerts wait
        memo: tuple[np.ndarray, np.ndarray] | None = self.__dict__.get("_top_memo", _UNSET)
        if memo is _UNSET:
            memo = None if self.explainer is None else self.explainer()
            self.__dict__["_top_memo"] = memo  # a frozen dataclass: past __setattr__, as cached_property writes
        return memo

    @property
    def sensors(self) -> np.ndarray | None:
        return None if self._top is None else self._top[0]

    @property
    def sensor_shares(self) -> np.ndarray | None:
        return None if self._top is None else self._top[1]

    def reference_of(self, i: int) -> str:
        return GLOBAL if self.reference is None else self.reference[i]

    def sensors_of(self, i: int) -> list[dict[str, float | str]]:
        """Window i's top sensors with a positive share: [{"sensor": name, "share": fraction}, ...]."""
        if self.sensors is None or self.sensor_shares is None:
            return []
        return [
            {"sensor": self.sensor_names[j], "share": round(float(s), 4)}
            for j, s in zip(self.sensors[i].tolist(), self.sensor_shares[i].tolist(), strict=False)
            if s > 0
        ]


class OnlineModel:
    """A verified artifact, ready to score batches: frozen model + reference + scorer + calibration scores."""

    def __init__(
        self,
        path: Path | None,
        manifest: dict[str, Any],
        model: FrozenModel,
        reference: Reference,
        scorer: Scorer,
        calibration: np.ndarray,
        assets: AssetReferences | None = None,
    ) -> None:
        self.path = path
        self.manifest = manifest
        self.model = model
        self.reference = reference
        self.scorer = scorer
        self.calibration = calibration
        self.assets = assets
        self.k = neighbours_needed(reference, scorer)
        names = manifest.get("feature_names") or [f"f{j}" for j in range(model.dim)]
        if len(names) != model.dim:
            raise ArtifactError(f"{path}: manifest names {len(names)} features, the model takes {model.dim}")
        self.sensor_names, self.groups = explain.feature_groups(names)
        self.spread = explain.spread_plan(names, self.groups)

    @property
    def asset_calibration(self) -> Mapping[str, np.ndarray] | None:
        """Key -> that key's calibration scores (read shard by shard), or None without per-asset references."""
        return None if self.assets is None else self.assets.calibrations()

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    @property
    def dim(self) -> int:
        return self.model.dim

    @property
    def scorer_name(self) -> str:
        return self.scorer.name

    def warm_up(self) -> None:
        """Score one window so the first real batch does not pay for the one-time work (torch's first call, the
        neighbour index's far radius: ~2,000 tree queries); the daemon calls it before it consumes."""
        _ = self.score(np.zeros((1, self.dim), dtype=np.float32)).sensors  # the explanation's per-reference gains too

    def close(self) -> None:
        """Release the search threads (a model being replaced); scoring afterwards restarts them."""
        self.reference.index.close()
        if self.assets is not None:
            self.assets.close()

    @classmethod
    def load(cls, path: Path | str, manifest_sha256: str | None = None, exact_max: int | None = None) -> OnlineModel:
        """Verify every file's sha256, then load (weights through safetensors: no code runs)."""
        path = Path(path)
        manifest = verify(path, manifest_sha256, deferred=is_shard)
        model = codec.load_model(path)
        reference = codec.load_reference(path, exact_max=exact_max)
        scorer, calibration, _ = codec.load_scorer(path)
        if reference.latents.shape[1] != model.latent_dim:
            raise ArtifactError(
                f"{path}: reference latent width {reference.latents.shape[1]} != model latent {model.latent_dim}"
            )
        assets = load_asset_references(path, manifest, exact_max)
        return cls(path, manifest, model, reference, scorer, calibration, assets)

    @classmethod
    def in_memory(
        cls, model: FrozenModel, reference: Reference, scorer: Scorer, calibration: np.ndarray, manifest: dict[str, Any]
    ) -> OnlineModel:
        """A model straight from training, nothing read or written (``pipelines.api.Detector.to_online``): it scores
        as ``load`` of the version it would publish; ``path`` is None, ``version`` "unsaved" unless given."""
        return cls(None, {"version": "unsaved", **manifest}, model, reference, scorer, calibration)

    @classmethod
    def load_current(cls, root: Path | str, exact_max: int | None = None) -> OnlineModel:
        pointer = read_pointer(Path(root))
        return cls.load(Path(root) / "versions" / pointer["version"], pointer["manifest_sha256"], exact_max)

    def encode(self, X: np.ndarray) -> Encoded:
        return encode_batch(self.model, self.reference, X, self.k)

    def groups_of(self, assets: Sequence[str] | None, n: int) -> dict[str | None, np.ndarray]:
        """Rows of a batch per reference key (None: the global reference), keys in first-seen order."""
        if assets is None or self.assets is None:
            return {None: np.arange(n)}
        if len(assets) != n:
            raise ValueError(f"{len(assets)} assets for {n} windows")
        key_of = self.assets.key_of
        rows: dict[str | None, list[int]] = {}
        for i, a in enumerate(assets):
            rows.setdefault(key_of(a), []).append(i)
        return {k: np.asarray(v, dtype=np.int64) for k, v in rows.items()}

    def _encode(self, X: np.ndarray, groups: dict[str | None, np.ndarray]) -> tuple[np.ndarray, ...]:
        """Scale each window with its asset's own scaler when it has one (else the model's), then encode once."""
        own = (
            {}
            if self.assets is None
            else {k: s for k in groups if k is not None and (s := self.assets.scaler(k)) is not None}
        )
        if not own:
            return self.model.encode(X)
        X = self.model.check(X)
        Xs = self.model.scaler.transform(X)
        for key, scaler in own.items():
            Xs[groups[key]] = scaler.transform(X[groups[key]])
        return (Xs, *self.model.encode_scaled(Xs))

    def score(self, X: np.ndarray, assets: Sequence[str] | None = None) -> ScoredBatch:
        """Score windows X [B, d]; with ``assets`` (one name per window) each window against its asset's reference
        when the artifact has one, else the global one."""
        B, width = len(X), min(self.k, MAX_NEIGHBOURS)
        groups = self.groups_of(assets, B)
        Xs, z, xhat, err = self._encode(X, groups)
        used = np.full(B, GLOBAL, dtype=object)
        ref: Reference | Gathered
        if len(groups) == 1:  # one reference for the whole batch: score against it directly
            key = next(iter(groups))
            # groups_of gives a key other than None only when the artifact has per-asset references
            ref = self.reference if key is None else cast(AssetReferences, self.assets).reference(key)
            k = neighbours_needed(ref, self.scorer)
            idx, dist = ref.neighbours(z, k)
            ids = ref.window_ids
            searched = [(ref, idx, np.arange(B))]
        else:  # one neighbour search per reference (a C call each), then one scorer call for the batch
            parts: list[tuple[Reference, tuple[np.ndarray, np.ndarray]]] = []
            rows: list[np.ndarray] = []
            for key, r in groups.items():
                ref = self.reference if key is None else cast(AssetReferences, self.assets).reference(key)
                parts.append((ref, ref.neighbours(z[r], neighbours_needed(ref, self.scorer))))
                rows.append(r)
            k = neighbours_needed(parts[0][0], self.scorer)
            searched = [(part, part_idx, r) for (part, (part_idx, _)), r in zip(parts, rows, strict=True)]
            ref, idx, dist = gather(parts, rows, B, self.groups, k)
            ids = ref.window_ids
        for key, r in groups.items():
            if key is not None:
                used[r] = f"asset:{key}"
        enc = Encoded(x=Xs, z=z, xhat=xhat, err=err, nbr_idx=idx, nbr_dist=dist, extra=self.model.extra(Xs, z, xhat))
        res = self.scorer.score(enc, ref, self.model.decode)
        score = np.asarray(res.score, dtype=np.float64)
        components = {name: np.asarray(v, dtype=np.float64) for name, v in res.components.items()}
        neighbours = np.full((B, width), -1, dtype=np.int64)
        m = min(width, k)
        neighbours[:, :m] = ids[idx[:, :m]]

        def explained() -> tuple[np.ndarray, np.ndarray]:
            base, spread = np.empty((B, len(self.sensor_names))), np.empty((B, len(self.sensor_names)))
            for part, part_idx, r in searched:
                base[r], spread[r] = explain.neighbour_stats(
                    part, self.model, self.groups, self.spread, part_idx, part.k
                )
            gain = explain.repair_gains(self.model, Xs, self.groups, err)
            deficit = np.maximum(0.0, spread - explain.spreads(Xs, self.groups, self.spread))
            return explain.top(explain.shares(gain, base, explain.channel_errors(Xs, xhat, self.groups), deficit))

        return ScoredBatch(
            score=score,
            components=components,
            neighbours=neighbours,
            reference=used.tolist(),
            sensor_names=tuple(self.sensor_names),
            explainer=explained,
            recon_error=np.asarray(err, dtype=np.float64),
        )
