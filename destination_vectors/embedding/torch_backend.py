"""Embedding with sentence-transformers on torch: the reference every other backend is measured against.

Importing torch and sentence-transformers takes 13-14 s on a 2-core machine, so this module is imported only when
a chunk must really be embedded with this backend (or by the export's child process).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from destination_vectors.embedding.model import ModelInfo


class NoGpuError(RuntimeError):
    """embedding.device is cuda but there is no GPU this backend can use."""


class TorchEmbedder:
    def __init__(self, info: ModelInfo, device: str = "auto", batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub: the model is local by construction
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a weight-loading bar per process is noise in sync logs
        if device == "cuda" and not torch.cuda.is_available():
            raise NoGpuError(
                f"embedding.device is cuda but torch {torch.__version__} sees no CUDA GPU (a CPU-only build, or no "
                "GPU/driver on this machine): set embedding.device to cpu or auto, or run on a GPU node"
            )
        self._model = SentenceTransformer(
            str(info.path), device=None if device == "auto" else device, local_files_only=True
        )
        self.max_seq_length = int(self._model.max_seq_length or info.max_seq_length)
        dimension_of = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        self.dimension = int(dimension_of() or info.dimension or 0)
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
