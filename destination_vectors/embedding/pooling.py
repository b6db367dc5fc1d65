"""How a sentence-transformers folder turns token vectors into one sentence vector, read from its own files.

The ONNX graph stops at the token vectors; pooling and normalisation happen here, in numpy, exactly as the folder's
`modules.json` and `1_Pooling/config.json` say. A folder with any other module (Dense, a custom layer) is refused,
because leaving it out would give vectors that do not match the model's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TRANSFORMER = "sentence_transformers.models.Transformer"
POOLING = "sentence_transformers.models.Pooling"
NORMALIZE = "sentence_transformers.models.Normalize"
SUPPORTED_MODES = ("mean", "cls", "max")


class UnsupportedModelError(RuntimeError):
    """The folder describes a model the ONNX backend cannot reproduce; the message says why."""


@dataclass(frozen=True)
class PoolingSpec:
    mode: str  # mean | cls | max
    normalize: bool
    dimension: int


def read_pooling(folder: Path) -> PoolingSpec:
    modules_file = folder / "modules.json"
    if not modules_file.exists():
        raise UnsupportedModelError(
            f"{folder} has no modules.json: not a sentence-transformers folder, so its pooling is unknown"
        )
    modules = json.loads(modules_file.read_text(encoding="utf-8"))
    types = [m.get("type", "") for m in modules]
    if not types or types[0] != TRANSFORMER:
        raise UnsupportedModelError(f"{folder}: the first module is {types[:1]}, not a Transformer")
    unknown = [t for t in types[1:] if t not in (POOLING, NORMALIZE)]
    if unknown:
        raise UnsupportedModelError(
            f"{folder}: modules {unknown} are not supported by the ONNX backend (only Transformer, Pooling, "
            "Normalize); use embedding.backend torch for this model"
        )
    if POOLING not in types:
        raise UnsupportedModelError(f"{folder}: no Pooling module, so there is no sentence vector to reproduce")
    pooling_path = next(m.get("path", "") for m in modules if m.get("type") == POOLING)
    config = json.loads((folder / pooling_path / "config.json").read_text(encoding="utf-8"))
    modes = [
        name
        for name in SUPPORTED_MODES
        if config.get(f"pooling_mode_{name}_tokens" if name != "cls" else "pooling_mode_cls_token")
    ]
    others = [
        key for key, value in config.items() if key.startswith("pooling_mode_") and value and key not in _MODE_KEYS
    ]
    if others or len(modes) != 1:
        raise UnsupportedModelError(
            f"{folder}: pooling {sorted(k for k, v in config.items() if k.startswith('pooling_mode_') and v)} is not "
            "supported by the ONNX backend (exactly one of mean, cls, max); use embedding.backend torch"
        )
    if config.get("include_prompt") is False:
        raise UnsupportedModelError(f"{folder}: pooling without the prompt tokens is not supported; use torch")
    return PoolingSpec(mode=modes[0], normalize=NORMALIZE in types, dimension=int(config["word_embedding_dimension"]))


_MODE_KEYS = {"pooling_mode_mean_tokens", "pooling_mode_cls_token", "pooling_mode_max_tokens"}


def pool(tokens: np.ndarray, mask: np.ndarray, spec: PoolingSpec) -> np.ndarray:
    """tokens (batch, seq, dim) and attention mask (batch, seq) -> (batch, dim) float32, as sentence-transformers."""
    weights = mask.astype(np.float32)[:, :, None]
    if spec.mode == "mean":
        vectors = (tokens * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    elif spec.mode == "cls":
        vectors = tokens[:, 0]
    else:
        vectors = np.where(weights > 0, tokens, -1e9).max(axis=1)
    if spec.normalize:
        vectors = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    return np.ascontiguousarray(vectors, dtype=np.float32)
