"""Per-asset references in memory: which reference an asset's windows are scored against, loaded shard by shard.

An asset resolves to a reference key: the asset name itself, or with a ``key_pattern`` (a regular expression) the
part of the name it matches at the start (``^skab/[^/]+`` puts every run of a SKAB folder in one group). A key
with a reference of its own is scored against it; any other asset against the global reference.

References are stored in shards, shard = Kafka's default partition of the key on ``shards`` partitions
(``pipelines.reference.partition``). A shard is read, its sha256 checked, only when one of its keys is first asked
for (or by ``preload``), and each key's ``Reference`` (with its k-d tree) is made on first use; so an instance
holds the references of the assets its partitions carry, and one whose partitions change on a rebalance reads
the new shards as their keys arrive.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from pipelines.model.scaler import Scaler
from pipelines.reference.build import Reference, group_sums
from pipelines.reference.partition import partition_of
from pipelines.reference.search import DEFAULT_EXACT_MAX, NeighbourIndex


@dataclass
class Shard:
    """Every asset of one shard, concatenated: item arrays [N, ...], per-key offsets into them [A + 1]."""

    keys: list[str]
    arrays: dict[str, np.ndarray]

    def __post_init__(self) -> None:
        self.pos = {k: i for i, k in enumerate(self.keys)}
        off, coff = self.arrays["item_offsets"], self.arrays["cal_offsets"]
        if len(off) != len(self.keys) + 1 or len(coff) != len(self.keys) + 1:
            raise ValueError(f"shard offsets hold {len(off) - 1} and {len(coff) - 1} entries for {len(self.keys)} keys")

    def reference(self, key: str, exact_max: int) -> Reference:
        a, i = self.arrays, self.pos[key]
        s = slice(int(a["item_offsets"][i]), int(a["item_offsets"][i + 1]))
        index = NeighbourIndex(a["latents"][s], None, exact_max=exact_max, far_eps=0.0)  # small: exact always
        group_err = a["group_err"][s] if "group_err" in a else None
        return Reference(
            index=index,
            err=a["err"][s],
            kdist=a["kdist"][s],
            lrd=a["lrd"][s],
            counts=a["counts"][s],
            window_ids=a["window_ids"][s],
            k=int(a["k"][i]),
            dist_floor=float(a["dist_floor"][i]),
            weighted=bool(a["weighted"][i]),
            group_err=group_err,
            err_groups=a.get("err_groups") if group_err is not None else None,
        )

    def calibration(self, key: str) -> np.ndarray:
        a, i = self.arrays, self.pos[key]
        return a["calibration"][int(a["cal_offsets"][i]) : int(a["cal_offsets"][i + 1])]

    def scaler(self, key: str) -> Scaler | None:
        a, i = self.arrays, self.pos[key]
        if "scaler_has" not in a or not a["scaler_has"][i]:
            return None
        return Scaler.from_arrays(
            {"center": a["scaler_center"][i], "scale": a["scaler_scale"][i], "clip": a["scaler_clip"][i : i + 1]}
        )


# one key of a shard: (reference, calibration scores[, the asset's own scaler or None])
ShardItem = tuple[Reference, np.ndarray] | tuple[Reference, np.ndarray, Scaler | None]


def pack_shard(items: Mapping[str, ShardItem]) -> dict[str, np.ndarray]:
    """The arrays of one shard file from {key: (reference, calibration scores[, scaler or None])}, keys in order."""
    refs = [t[0] for t in items.values()]
    cals = [np.asarray(t[1], dtype=np.float64) for t in items.values()]
    scalers = [t[2] if len(t) > 2 else None for t in items.values()]
    sizes, csizes = [r.size for r in refs], [len(c) for c in cals]
    out = {
        "latents": np.concatenate([r.latents for r in refs]).astype(np.float32),
        "err": np.concatenate([r.err for r in refs]),
        "kdist": np.concatenate([r.kdist for r in refs]),
        "lrd": np.concatenate([r.lrd for r in refs]),
        "counts": np.concatenate([r.counts for r in refs]),
        "window_ids": np.concatenate([r.window_ids for r in refs]),
        "item_offsets": np.r_[0, np.cumsum(sizes)].astype(np.int64),
        "calibration": np.concatenate(cals) if cals else np.zeros(0),
        "cal_offsets": np.r_[0, np.cumsum(csizes)].astype(np.int64),
        "k": np.array([r.k for r in refs], dtype=np.int64),
        "dist_floor": np.array([r.dist_floor for r in refs], dtype=np.float64),
        "weighted": np.array([int(r.weighted) for r in refs], dtype=np.int64),
    }
    if any(s is not None for s in scalers):
        d = next(s for s in scalers if s is not None).dim
        out["scaler_has"] = np.array([int(s is not None) for s in scalers], dtype=np.int64)
        out["scaler_center"] = np.stack([s.center if s is not None else np.zeros(d) for s in scalers])
        out["scaler_scale"] = np.stack([s.scale if s is not None else np.ones(d) for s in scalers])
        out["scaler_clip"] = np.array([s.clip if s is not None else 1.0 for s in scalers], dtype=np.float64)
    if all(r.group_err is not None for r in refs):
        groups = refs[0].err_groups
        if groups is None or any(r.err_groups is None or not np.array_equal(r.err_groups, groups) for r in refs):
            raise ValueError("references of one shard must share their explanation groups")
        out["group_err"] = np.concatenate([r.group_err for r in refs]).astype(np.float32)
        out["err_groups"] = np.asarray(groups, dtype=np.int64)
    return out


class AssetReferences:
    """The per-asset part of an artifact; ``load_shard(name) -> Shard`` reads (and verifies) one shard file."""

    def __init__(
        self,
        shard_keys: Mapping[str, list[str]],
        shards: int,
        key_pattern: str | None,
        load_shard: Callable[[str], Shard],
        exact_max: int = DEFAULT_EXACT_MAX,
    ) -> None:
        self.shards = int(shards)
        self.key_pattern = key_pattern
        self._re = re.compile(key_pattern) if key_pattern else None
        self._shard_of = {k: name for name, keys in shard_keys.items() for k in keys}
        self._shard_keys = {name: list(keys) for name, keys in shard_keys.items()}
        self._load_shard, self.exact_max = load_shard, exact_max
        self._loaded: dict[str, Shard] = {}
        self._cal: dict[str, np.ndarray] = {}  # key -> calibration, kept without the shard's reference arrays
        self._refs: dict[str, Reference] = {}
        self._scalers: dict[str, Scaler | None] = {}
        self._key_cache: dict[str, str | None] = {}

    @property
    def keys(self) -> list[str]:
        return list(self._shard_of)

    @property
    def loaded_shards(self) -> list[str]:
        return sorted(self._loaded)

    def __len__(self) -> int:
        return len(self._shard_of)

    def key_of(self, asset: str) -> str | None:
        """The reference key an asset is scored against, or None (the global reference)."""
        if asset not in self._key_cache:
            key: str | None = asset
            if self._re is not None:
                m = self._re.match(asset)
                key = m.group(0) if m else None
            self._key_cache[asset] = key if key in self._shard_of else None
        return self._key_cache[asset]

    def _shard(self, key: str) -> Shard:
        name = self._shard_of[key]
        if name not in self._loaded:
            self._loaded[name] = self._load_shard(name)
        return self._loaded[name]

    def reference(self, key: str) -> Reference:
        ref = self._refs.get(key)
        if ref is None:
            ref = self._refs[key] = self._shard(key).reference(key, self.exact_max)
        return ref

    def scaler(self, key: str) -> Scaler | None:
        """The key's own input scaler, or None (the model's)."""
        if key not in self._scalers:
            self._scalers[key] = self._shard(key).scaler(key)
        return self._scalers[key]

    def calibration(self, key: str) -> np.ndarray:
        """The key's calibration scores. A shard read only for these keeps just its calibration arrays (a bank
        takes every asset's at start; the references wait until their assets send)."""
        if key in self._cal:
            return self._cal[key]
        name = self._shard_of[key]
        shard = self._loaded.get(name) or self._load_shard(name)
        for k in shard.keys:
            self._cal[k] = shard.calibration(k).copy()
        return self._cal[key]

    def preload(self, partitions: set[int] | None = None) -> None:
        """Read the shards of these partitions now (all with None), e.g. on an assignment."""
        for keys in self._shard_keys.values():
            if keys and (partitions is None or partition_of(keys[0], self.shards) in partitions):
                self._shard(keys[0])

    def calibrations(self) -> Calibrations:
        return Calibrations(self)

    def close(self) -> None:
        for ref in self._refs.values():
            ref.index.close()


class Calibrations(Mapping[str, np.ndarray]):
    """Key -> that key's calibration scores, each shard read when first asked for (what ThresholdBank takes).

    Looked up by an asset's name, it answers with the scores of the key the asset is scored against (its own, or its
    group's under a ``key_pattern``), so an asset's threshold starts from the same normal its scores come from;
    iterating gives the keys."""

    def __init__(self, refs: AssetReferences) -> None:
        self._refs = refs

    def __getitem__(self, name: str) -> np.ndarray:
        key = name if name in self._refs._shard_of else self._refs.key_of(name)
        if key is None:
            raise KeyError(name)
        return self._refs.calibration(key)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._refs._shard_of or self._refs.key_of(name) is not None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._refs.keys)

    def __len__(self) -> int:
        return len(self._refs)


@dataclass
class Gathered:
    """The neighbours of a batch's windows, gathered from several references into one reference-like object.

    Window i's neighbours are items i*k .. i*k + k - 1 (``nbr_idx``); every per-item array the scorers and the
    explanation read (err, kdist, lrd, latents, group_err, window_ids) holds those items' values, and
    ``dist_floor`` is per window [B, 1], so one scorer call serves a batch whose windows use different references.
    ``group_err`` is per explanation group (``err_groups`` = the feature -> group map of the batch)."""

    err: np.ndarray
    kdist: np.ndarray
    lrd: np.ndarray
    latents: np.ndarray
    group_err: np.ndarray
    err_groups: np.ndarray
    window_ids: np.ndarray
    dist_floor: np.ndarray
    k: int

    def reach(self, nbr_idx: np.ndarray, nbr_dist: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.maximum(np.maximum(self.kdist[nbr_idx], nbr_dist), self.dist_floor)
        return out


def gather(
    parts: list[tuple[Reference, tuple[np.ndarray, np.ndarray]]],
    rows: list[np.ndarray],
    B: int,
    groups: np.ndarray,
    k: int,
) -> tuple[Gathered, np.ndarray, np.ndarray]:
    """(Gathered over every part, nbr_idx [B, k] into it, nbr_dist [B, k]) from (reference, neighbours (idx, dist))
    per group of rows; every reference must give at least k neighbours and share the reference k."""
    G = int(groups.max()) + 1
    n = B * k
    err, kdist, lrd = np.empty(n), np.empty(n), np.empty(n)
    latents, group_err = None, np.zeros((n, G), dtype=np.float32)
    window_ids = np.empty(n, dtype=np.int64)
    floor = np.empty((B, 1))
    dist_all = np.empty((B, k))
    ref_k = {ref.k for ref, _ in parts}
    if len(ref_k) != 1:
        raise ValueError(f"references of one batch must share k, got {sorted(ref_k)}")
    for (ref, (idx, dist)), r in zip(parts, rows, strict=False):
        idx = idx[:, :k]
        pos = (r[:, None] * k + np.arange(k)[None, :]).ravel()
        flat = idx.ravel()
        err[pos], kdist[pos], lrd[pos] = ref.err[flat], ref.kdist[flat], ref.lrd[flat]
        if latents is None:
            latents = np.empty((n, ref.latents.shape[1]), dtype=np.float32)
        latents[pos] = ref.latents[flat]
        window_ids[pos] = ref.window_ids[flat]
        if ref.group_err is not None:
            cols = np.zeros(ref.group_err.shape[1], dtype=np.int64)
            cols[ref.err_groups] = groups
            group_err[pos] = group_sums(ref.group_err[flat], cols)
        floor[r] = ref.dist_floor
        dist_all[r] = dist[:, :k]
    if latents is None:
        raise ValueError("gather needs at least one (reference, neighbours) part")
    g = Gathered(
        err=err,
        kdist=kdist,
        lrd=lrd,
        latents=latents,
        group_err=group_err,
        err_groups=groups,
        window_ids=window_ids,
        dist_floor=floor,
        k=ref_k.pop(),
    )
    return g, np.arange(n, dtype=np.int64).reshape(B, k), dist_all
