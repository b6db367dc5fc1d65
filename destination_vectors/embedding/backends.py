"""Config -> an embedder that knows its name, size and token limit at once but loads its model at the first embed.

A sync whose pages are all unchanged never embeds, so it never pays for onnxruntime, torch or the model. The name
(`<model>@<backend>`) goes into every row's `embedding_model` and into the reuse key: vectors of two backends are
never mixed, and switching backends re-embeds everything.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from destination_vectors.config import EmbeddingConfig
from destination_vectors.embedding.cache import ONNX_FILES, ensure_export, once, run_module
from destination_vectors.embedding.model import ModelInfo, resolve_model
from destination_vectors.embedding.pooling import UnsupportedModelError, read_pooling

logger = logging.getLogger("airbyte")

BACKENDS = ("torch", "onnx", "onnx-int8")


class EmbeddingSetupError(RuntimeError):
    """The configured backend or device cannot run here; the message says why and what to change."""


def embedder_name(model: str, backend: str) -> str:
    return f"{model}@{backend}"


def split_name(name: str) -> tuple[str, str]:
    """(model, backend) of an `embedding_model` value; rows written before backends existed came from torch."""
    model, _, backend = name.rpartition("@")
    return (model, backend) if model and backend in BACKENDS else (name, "torch")


@dataclass(frozen=True)
class Plan:
    info: ModelInfo
    backend: str
    dimension: int | None
    load: Callable[[], object]


class LazyEmbedder:
    def __init__(self, plan: Plan) -> None:
        self._plan = plan
        self._model = None
        self._lock = threading.Lock()
        self.backend = plan.backend
        self.name = embedder_name(plan.info.name, plan.backend)
        self.max_seq_length = plan.info.max_seq_length
        self.dimension = plan.dimension or self._loaded().dimension

    @property
    def is_loaded(self) -> bool:
        return self._model is not None

    def _loaded(self):
        with self._lock:  # searches embed from worker threads: load once
            if self._model is None:
                logger.info(f"loading embedding model {self.name}")
                self._model = self._plan.load()
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._loaded().embed(texts)


def load_embedder(config: EmbeddingConfig, indexed: str | None = None) -> LazyEmbedder:
    """`indexed` (the `embedding_model` of an existing index) makes `auto` answer with the index's own backend, so
    a search embeds its query exactly as the index's chunks were embedded."""
    info = resolve_model(config.model)
    backend = config.backend
    if backend == "auto":
        backend = _auto(config, info, indexed)
    if backend == "torch":
        return LazyEmbedder(Plan(info, "torch", info.dimension, lambda: _torch(config, info)))
    try:
        pooling = read_pooling(info.path)
    except UnsupportedModelError as error:
        raise EmbeddingSetupError(str(error)) from None
    providers = _providers(config.device) if config.device == "cuda" else None  # a missing GPU fails at once
    folder = ensure_export(info.path, _root(config), [ONNX_FILES[backend]])
    file = folder / ONNX_FILES[backend]

    def load():
        from destination_vectors.embedding.onnx_backend import OnnxEmbedder

        chosen = providers or _providers(config.device)
        return OnnxEmbedder(file, info.path, pooling, info.max_seq_length, config.batch_size, chosen)

    return LazyEmbedder(Plan(info, backend, pooling.dimension, load))


def check_embedding(config: EmbeddingConfig, info: ModelInfo) -> None:
    """What `check` can say without exporting: an ONNX backend can run this model, and a cuda device exists."""
    if config.backend in ONNX_FILES:
        try:
            read_pooling(info.path)
        except UnsupportedModelError as error:
            raise EmbeddingSetupError(str(error)) from None
    if config.device == "cuda" and config.backend in ONNX_FILES:
        _providers("cuda")


def _auto(config: EmbeddingConfig, info: ModelInfo, indexed: str | None) -> str:
    if indexed:
        model, backend = split_name(indexed)
        if model == info.name:
            return backend
    if config.device == "cuda":
        backend = "onnx" if "CUDAExecutionProvider" in _ort_providers() else "torch"
        logger.info(f"embedding backend auto on cuda: {backend}")
        return backend
    try:
        read_pooling(info.path)
    except UnsupportedModelError as error:
        logger.info(f"embedding backend auto: torch, because the ONNX backend cannot run this model ({error})")
        return "torch"
    from destination_vectors.embedding.gate import read_gate

    folder = ensure_export(info.path, _root(config), list(ONNX_FILES.values()))
    gate = read_gate(folder)
    if gate is None:
        with once(folder / ".gate.lock", "measuring the embedding backends on this CPU"):
            gate = read_gate(folder)  # measured by the process we waited for
            if gate is None:
                logger.info("measuring the embedding backends on this CPU once (quality gate, needs torch)")
                run_module("destination_vectors.embedding.gate", str(info.path), str(folder))
                gate = read_gate(folder)
    if gate is None:
        raise EmbeddingSetupError(f"the quality gate left no result in {folder}")
    speeds = ", ".join(f"{b} {s:.0f}/s" for b, s in gate["chunks_per_s"].items())
    cosines = ", ".join(f"{b} {c:.5f}" for b, c in gate["min_cosine"].items() if b != "torch")
    logger.info(
        f"embedding backend auto: {gate['choice']} (measured on this CPU: {speeds}; worst cosine to torch {cosines})"
    )
    return gate["choice"]


def _torch(config: EmbeddingConfig, info: ModelInfo):
    from destination_vectors.embedding.torch_backend import NoGpuError, TorchEmbedder

    try:
        return TorchEmbedder(info, config.device, config.batch_size)
    except NoGpuError as error:
        raise EmbeddingSetupError(str(error)) from None


def _ort_providers() -> list[str]:
    import onnxruntime

    return list(onnxruntime.get_available_providers())


def _providers(device: str) -> list[str]:
    available = _ort_providers()
    if device == "cuda":
        if "CUDAExecutionProvider" not in available:
            raise EmbeddingSetupError(
                "embedding.device is cuda but onnxruntime has no CUDA provider (available: "
                f"{', '.join(available)}): install onnxruntime-gpu instead of onnxruntime on a GPU node, or use "
                "embedding.backend torch with a CUDA build of torch, or set embedding.device to cpu"
            )
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device == "auto" and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def _root(config: EmbeddingConfig) -> Path:
    from destination_vectors.embedding.cache import cache_root

    return cache_root(config.cache_dir)
