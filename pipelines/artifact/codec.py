"""What goes into an artifact directory and how it comes back: safetensors and JSON only, so loading runs no code.

A model of a training variant (pipelines/model/variants.py) other than the plain autoencoder adds
``"variant": {"name", "params"}`` to model.json and its parts' tensors to model.safetensors, prefixed
``variant.``; loading rebuilds the parts from that record and fills them. Without the record a model is "ae"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file as load_np
from safetensors.numpy import save_file as save_np
from safetensors.torch import load_file as load_torch
from safetensors.torch import save_file as save_torch

from pipelines.artifact.store import ArtifactError
from pipelines.model.autoencoder import AESpec, Autoencoder
from pipelines.model.frozen import FrozenModel
from pipelines.model.scaler import Scaler
from pipelines.model.variants import PREFIX, make_variant
from pipelines.reference.build import Reference
from pipelines.reference.search import NeighbourIndex
from pipelines.scorers import Scorer, make_scorer

FILES = (
    "model.safetensors",
    "model.json",
    "scaler.safetensors",
    "reference.safetensors",
    "reference.ann",
    "scorer.json",
    "calibration.safetensors",
)


def _contiguous(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.ascontiguousarray(v) for k, v in arrays.items()}


def save_model(d: Path, model: FrozenModel) -> None:
    tensors = dict(model.ae.state_dict())
    doc: dict[str, Any] = {"autoencoder": model.ae.spec.to_dict()}
    if model.variant.name != "ae":
        doc["variant"] = {"name": model.variant.name, "params": model.variant.params()}
    if model.parts is not None:
        tensors.update({PREFIX + k: v for k, v in model.parts.state_dict().items()})
    save_torch({k: v.contiguous() for k, v in tensors.items()}, str(d / "model.safetensors"))
    (d / "model.json").write_text(json.dumps(doc, indent=2, sort_keys=True))
    save_np(_contiguous(model.scaler.to_arrays()), str(d / "scaler.safetensors"))


def load_model(d: Path) -> FrozenModel:
    try:
        doc = json.loads((d / "model.json").read_text())
        spec = AESpec.from_dict(doc["autoencoder"])
        record = doc.get("variant", {"name": "ae", "params": {}})
        variant = make_variant(record["name"], **record["params"])
        parts = variant.parts(spec)
        tensors = load_torch(str(d / "model.safetensors"))
        ae = Autoencoder(spec)
        ae.load_state_dict({k: v for k, v in tensors.items() if not k.startswith(PREFIX)}, strict=True)
        extra = {k[len(PREFIX) :]: v for k, v in tensors.items() if k.startswith(PREFIX)}
        if parts is not None:
            parts.load_state_dict(extra, strict=True)
        elif extra:
            raise ValueError(f"variant {variant.name!r} has no parts, but the weights hold {sorted(extra)}")
        scaler = Scaler.from_arrays(load_np(str(d / "scaler.safetensors")))
    except (KeyError, TypeError, ValueError, RuntimeError, SafetensorError) as e:
        raise ArtifactError(f"model in {d} cannot be loaded: {e}") from None
    if scaler.dim != spec.input_dim:
        raise ArtifactError(f"model in {d}: scaler width {scaler.dim} != autoencoder input {spec.input_dim}")
    return FrozenModel(scaler=scaler, ae=ae, variant=variant, parts=parts)


def save_reference(d: Path, ref: Reference) -> None:
    save_np(_contiguous(ref.arrays()), str(d / "reference.safetensors"))
    if ref.index.annoy is None:
        raise ArtifactError("reference has no annoy index to save")
    ref.index.annoy.save(str(d / "reference.ann"))


def load_reference(d: Path, exact_max: int | None = None, search_k: int = -1) -> Reference:
    try:
        a = load_np(str(d / "reference.safetensors"))
        latents = a["latents"]
        annoy = NeighbourIndex.load_annoy(d / "reference.ann", latents.shape[1])
        if annoy.get_n_items() != len(latents):
            raise ArtifactError(f"{d}: annoy index holds {annoy.get_n_items()} items, reference {len(latents)}")
        kw = {} if exact_max is None else {"exact_max": exact_max}
        index = NeighbourIndex(latents, annoy, search_k=search_k, **kw)
        return Reference(
            index=index,
            err=a["err"],
            kdist=a["kdist"],
            lrd=a["lrd"],
            counts=a["counts"],
            window_ids=a["window_ids"],
            k=int(a["k"][0]),
            dist_floor=float(a["dist_floor"][0]),
            weighted=bool(a["weighted"][0]) if "weighted" in a else False,
            group_err=a.get("group_err"),
            err_groups=a.get("err_groups"),
        )
    except KeyError as e:
        raise ArtifactError(f"{d}/reference.safetensors lacks array {e}") from None
    except SafetensorError as e:
        raise ArtifactError(f"{d}/reference.safetensors cannot be read: {e}") from None


def save_scorer(d: Path, scorer: Scorer, calibration: np.ndarray) -> None:
    doc = {"name": scorer.name, "params": scorer.params(), "state": scorer.state()}
    (d / "scorer.json").write_text(json.dumps(doc, indent=2, sort_keys=True))
    save_np({"scores": np.ascontiguousarray(calibration, dtype=np.float64)}, str(d / "calibration.safetensors"))


def load_scorer(d: Path) -> tuple[Scorer, np.ndarray, dict[str, Any]]:
    try:
        doc = json.loads((d / "scorer.json").read_text())
        scorer = make_scorer(doc["name"], **doc["params"])
        scorer.load_state(doc["state"])
        calibration = load_np(str(d / "calibration.safetensors"))["scores"]
    except (KeyError, TypeError, ValueError, SafetensorError) as e:
        raise ArtifactError(f"scorer in {d} cannot be loaded: {e}") from None
    return scorer, calibration, doc
