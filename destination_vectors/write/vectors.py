"""Chunks -> vectors: local embeddings (the embedder in embedding/), reusing vectors whose text and model did not
change."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence

import numpy as np

from destination_vectors.embedding.embedder import Embedder
from destination_vectors.store.counts import SyncCounts as EmbedCounts  # embed_with_reuse adds to the sync's counts

logger = logging.getLogger("airbyte")


def chunk_content_hash(model_name: str, text: str) -> str:
    """Key for reuse: the same text under the same model always has the same vector."""
    return hashlib.sha256(f"{model_name}\n{text}".encode("utf-8", "replace")).hexdigest()


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
