"""Chunks -> vectors: local sentence-transformers embeddings, reusing vectors whose text and model did not change."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from destination_vectors.config import EmbeddingConfig
from destination_vectors.model import ModelInfo, resolve_model

logger = logging.getLogger("airbyte")

# A deterministic stand-in for tests only: "test-hash-embedder" embeds by hashing tokens (no torch, instant).
TEST_HASH_EMBEDDER = "test-hash-embedder"


class Embedder(Protocol):
    name: str
    dimension: int
    max_seq_length: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def chunk_content_hash(model_name: str, text: str) -> str:
    """Key for reuse: the same text under the same model always has the same vector."""
    return hashlib.sha256(f"{model_name}\n{text}".encode("utf-8", "replace")).hexdigest()


class SentenceTransformerEmbedder:
    def __init__(self, config: EmbeddingConfig, info: ModelInfo) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub: the model is local by construction
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a weight-loading bar per process is noise in sync logs

        device = None if config.device == "auto" else config.device
        self._model = SentenceTransformer(str(info.path), device=device, local_files_only=True)
        self.name = info.name
        self.max_seq_length = int(self._model.max_seq_length or info.max_seq_length)
        dimension_of = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        self.dimension = int(dimension_of() or info.dimension or 0)
        self.batch_size = config.batch_size

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


def load_embedder(config: EmbeddingConfig) -> Embedder:
    if config.model == TEST_HASH_EMBEDDER:
        return HashEmbedder(resolve_model())
    return SentenceTransformerEmbedder(config, resolve_model(config.model))


def model_tokenizer_name(config: EmbeddingConfig) -> str:
    """The model whose tokenizer bounds the chunks (the hash embedder borrows the default's)."""
    return "default" if config.model == TEST_HASH_EMBEDDER else config.model


@dataclass
class EmbedCounts:
    embedded: int = 0
    reused: int = 0


Lookup = Callable[[Sequence[str]], dict[str, np.ndarray]]


def embed_with_reuse(
    texts: Sequence[str], hashes: Sequence[str], embedder: Embedder, lookup: Lookup, counts: EmbedCounts
) -> np.ndarray:
    """Vectors for `texts`: taken from the previous snapshot where the hash matches, embedded otherwise.

    Identical texts within the batch are embedded once.
    """
    found = lookup(list(dict.fromkeys(hashes)))
    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    todo: dict[str, list[int]] = {}
    for row, digest in enumerate(hashes):
        previous = found.get(digest)
        if previous is not None and len(previous) == embedder.dimension:
            vectors[row] = previous
            counts.reused += 1
        else:
            todo.setdefault(digest, []).append(row)
    if todo:
        first_rows = [rows[0] for rows in todo.values()]
        fresh = embedder.embed([texts[row] for row in first_rows])
        for vector, rows in zip(fresh, todo.values(), strict=False):
            vectors[rows] = vector
        counts.embedded += len(first_rows)
        counts.reused += sum(len(rows) - 1 for rows in todo.values())
    return vectors


def batched(items: Iterable, size: int) -> Iterable[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
