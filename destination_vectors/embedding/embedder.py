"""The embedder every flow uses: the configured backend (embedding/backends.py), or the hash embedder tests use.

Loading is shared by writing (a sync embeds chunks) and reading (a search embeds the question), so it lives here;
reusing vectors across syncs is the write path's (write/vectors.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from destination_vectors.config import EmbeddingConfig
from destination_vectors.embedding.model import ModelInfo, resolve_model

# A deterministic stand-in for tests only: "test-hash-embedder" embeds by hashing tokens (no torch, instant).
TEST_HASH_EMBEDDER = "test-hash-embedder"


class Embedder(Protocol):
    name: str
    dimension: int
    max_seq_length: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class HashEmbedder:
    """Deterministic bag-of-words hashing: similar texts get similar vectors. For tests, never for production."""

    def __init__(self, info: ModelInfo, dimension: int = 64) -> None:
        self.name = TEST_HASH_EMBEDDER
        self.dimension = dimension
        self.max_seq_length = info.max_seq_length

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                bucket = int.from_bytes(hashlib.blake2b(word.encode("utf-8", "replace"), digest_size=4).digest(), "big")
                out[row, bucket % self.dimension] += 1.0
            norm = float(np.linalg.norm(out[row]))
            out[row] = out[row] / norm if norm else out[row]
        return out


def load_embedder(config: EmbeddingConfig, indexed: str | None = None) -> Embedder:
    """The configured backend, loaded lazily (see embedding/backends.py); `indexed` is the index's embedding_model."""
    if config.model == TEST_HASH_EMBEDDER:
        return HashEmbedder(resolve_model())
    from destination_vectors.embedding.backends import load_embedder as load_backend

    return load_backend(config, indexed)


def model_tokenizer_name(config: EmbeddingConfig) -> str:
    """The model whose tokenizer bounds the chunks (the hash embedder borrows the default's)."""
    return "default" if config.model == TEST_HASH_EMBEDDER else config.model
