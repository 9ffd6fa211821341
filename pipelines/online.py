"""The daemon's one entry into computation: load a verified artifact, score a batch."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.artifact import codec
from pipelines.artifact.store import ArtifactError, read_pointer, verify
from pipelines.encode import encode_batch, neighbours_needed
from pipelines.model.frozen import FrozenModel
from pipelines.reference.build import Reference
from pipelines.scorers import Encoded, Scorer


@dataclass(frozen=True)
class ScoredBatch:
    score: np.ndarray  # float64 [B]
    components: dict[str, np.ndarray]  # name -> float64 [B]
    neighbours: np.ndarray  # int64 [B, k]: reference window ids, nearest first


class OnlineModel:
    """A verified artifact, ready to score batches: frozen model + reference + scorer + calibration scores."""

    def __init__(self, path: Path, manifest: dict, model: FrozenModel, reference: Reference, scorer: Scorer,
                 calibration: np.ndarray) -> None:
        self.path = path
        self.manifest = manifest
        self.model = model
        self.reference = reference
        self.scorer = scorer
        self.calibration = calibration
        self.k = neighbours_needed(reference, scorer)

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
        self.score(np.zeros((1, self.dim), dtype=np.float32))

    def close(self) -> None:
        """Release the search threads (a model being replaced); scoring afterwards restarts them."""
        self.reference.index.close()

    @classmethod
    def load(cls, path: Path | str, manifest_sha256: str | None = None, exact_max: int | None = None) -> "OnlineModel":
        """Verify every file's sha256, then load (weights through safetensors: no code runs)."""
        path = Path(path)
        manifest = verify(path, manifest_sha256)
        model = codec.load_model(path)
        reference = codec.load_reference(path, exact_max=exact_max)
        scorer, calibration, _ = codec.load_scorer(path)
        if reference.latents.shape[1] != model.latent_dim:
            raise ArtifactError(f"{path}: reference latent width {reference.latents.shape[1]} != model latent "
                                f"{model.latent_dim}")
        return cls(path, manifest, model, reference, scorer, calibration)

    @classmethod
    def load_current(cls, root: Path | str, exact_max: int | None = None) -> "OnlineModel":
        pointer = read_pointer(Path(root))
        return cls.load(Path(root) / "versions" / pointer["version"], pointer["manifest_sha256"], exact_max)

    def encode(self, X: np.ndarray) -> Encoded:
        return encode_batch(self.model, self.reference, X, self.k)

    def score(self, X: np.ndarray) -> ScoredBatch:
        enc = self.encode(X)
        res = self.scorer.score(enc, self.reference, self.model.decode)
        return ScoredBatch(score=np.asarray(res.score, dtype=np.float64),
                           components={k: np.asarray(v, dtype=np.float64) for k, v in res.components.items()},
                           neighbours=self.reference.window_ids[enc.nbr_idx[:, :min(self.k, 10)]])
