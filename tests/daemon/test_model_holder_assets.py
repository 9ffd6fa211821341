"""A new version whose per-asset shard is corrupt is refused at load; the running model stays."""

from __future__ import annotations

import numpy as np

from daemon.model_holder import ModelHolder
from pipelines.artifact.assets import publish_assets
from pipelines.artifact.store import resolve_current
from pipelines.online import OnlineModel
from pipelines.reference.assets import build_asset_normal


def test_corrupt_asset_shard_refuses_the_swap(artifact_root, tmp_path):
    import shutil

    root = tmp_path / "root"
    shutil.copytree(artifact_root, root)
    holder = ModelHolder(root, None, 0.0)
    holder.load_initial()
    first = holder.path
    m = OnlineModel.load(first)
    X = np.random.default_rng(3).normal(size=(200, m.dim))
    v = publish_assets(root, first, {"pump-1": build_asset_normal(m.model, X, m.scorer, k=m.reference.k)}, shards=2)
    shard = next(p for p in v.iterdir() if p.name.startswith("assets-"))
    data = bytearray(shard.read_bytes())
    shard.unlink()
    data[-1] ^= 1
    shard.write_bytes(bytes(data))
    assert resolve_current(root) == v
    assert holder.maybe_swap(force=True) is False
    assert holder.path == first and "sha256" in holder.failed[v]
