"""Chunks -> vectors: local embeddings (backends in embedding/), reusing vectors whose text and model did not change."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import numpy as np

from destination_vectors.config import EmbeddingConfig
from destination_vectors.counts import SyncCounts as EmbedCounts  # embed_with_reuse adds to the sync's counts
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


def indexed_model(table) -> str | None:
    """The `embedding_model` of a live LanceDB table's rows (one model per index), None for no table or no rows."""
    if table is None or "embedding_model" not in table.schema.names:
        return None
    rows = table.search().select(["embedding_model"]).limit(1).to_list()
    return rows[0]["embedding_model"] if rows else None


def announce_switch(previous: str | None, name: str) -> None:
    """Said before a sync starts: a new model or backend means no vector of the index can be reused."""
    if previous and previous != name:
        logger.warning(
            f"the index was embedded with {previous!r} and this sync embeds with {name!r}: every chunk is embedded "
            "again (vectors of two models or backends are never mixed in one index)"
        )


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
