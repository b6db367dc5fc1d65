"""Exact vector search in memory: the live version's vectors as one float32 matrix, scored with numpy.

Below `vector_index.min_rows` search is flat (exact). Lance answers a flat query by reading and decoding the whole
vector column on every query; here the column is read once per table version and kept. The cost is memory:
rows x dimension x 4 bytes (1,500 chunks of 384 dimensions: 2.3 MB; the cap, 50,000 chunks by default: 77 MB), held
as long as that version is the one searched; a new version (a sync committed) starts a new `FlatVectors` and the old
one is dropped with its snapshot. Past `min_rows` search goes to Lance (with the approximate index when one holds).

Which rows a search may rank is still decided by Lance alone: the SQL prefilter (`search.visibility_filter`, the one
visibility rule) runs as a scalar-only scan that returns row ids; the allowed positions are kept per filter in a small
LRU. Only allowed rows are scored, so asking for k returns k whenever k readable rows exist. Distances are Lance's
cosine distance (1 - dot / (|a| |b|)) in float32: equal to the flat Lance query's to ~1e-7.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import lance
import numpy as np

from destination_vectors.store.row import VECTOR_COLUMN

ALLOWED_SETS_KEPT = 32  # filters remembered per version: a server answers the same few principals again and again
# Below this share of allowed rows, copying them out and scoring the copy costs less than scoring every row
# (measured at 50,000 x 384: all rows 10 ms; a copy of 10 % 5 ms, 20 % 13 ms, 50 % 30 ms).
SUBSET_SHARE = 0.15


class FlatVectors:
    """One table version's vectors and row ids in scan order; position i is `dataset.take([i])`. Loaded on first use
    (under a lock: concurrent searches load once)."""

    def __init__(self, dataset: lance.LanceDataset) -> None:
        self.dataset = dataset
        self.version = dataset.version
        self._lock = threading.Lock()
        self._matrix: np.ndarray | None = None  # rows x dimension, float32, C-contiguous
        self._norms: np.ndarray | None = None  # |row|, float32 (Lance's cosine divides by it)
        self._sorted_ids: np.ndarray | None = None  # row ids ascending, and the scan position of each
        self._positions_by_id: np.ndarray | None = None
        self._valid: np.ndarray | None = None  # per position: has a vector (a null vector is never a hit)
        self._allowed: OrderedDict[tuple[int, str | None], np.ndarray] = OrderedDict()

    @property
    def nbytes(self) -> int:
        """Memory the matrix takes (0 before the first search)."""
        return 0 if self._matrix is None else self._matrix.nbytes

    def _load(self) -> np.ndarray:
        with self._lock:
            if self._matrix is None:
                self._matrix = self._read()
            return self._matrix

    def _read(self) -> np.ndarray:
        """Batch by batch into one preallocated matrix: reading the column as one Arrow table first held it twice
        (and left the Arrow copy with the allocator: RSS grew by 2-4x the matrix over a few versions)."""
        rows = self.dataset.count_rows()
        dimension = self.dataset.schema.field(VECTOR_COLUMN).type.list_size
        matrix = np.empty((rows, dimension), dtype=np.float32)
        ids = np.empty(rows, dtype=np.uint64)
        valid = np.ones(rows, dtype=bool)
        at = 0
        for batch in self.dataset.to_batches(columns=[VECTOR_COLUMN], with_row_id=True, batch_size=4096):
            column, count = batch.column(VECTOR_COLUMN), batch.num_rows
            values = column.values.slice(column.offset * dimension, count * dimension)  # null rows too
            matrix[at : at + count] = values.to_numpy(zero_copy_only=False).reshape(count, dimension)
            ids[at : at + count] = batch.column("_rowid").to_numpy()
            if column.null_count:
                valid[at : at + count] = ~column.is_null().to_numpy(zero_copy_only=False)
            at += count
        if at != rows:
            raise RuntimeError(f"read {at} vectors of a version that counts {rows} rows")
        order = np.argsort(ids, kind="stable")
        self._sorted_ids, self._positions_by_id = ids[order], order
        self._valid = None if valid.all() else valid
        self._norms = np.linalg.norm(matrix, axis=1).astype(np.float32)
        return matrix

    def allowed(self, where: str | None) -> np.ndarray:
        """Positions (ascending) of the rows the prefilter lets through, cached per (version, filter)."""
        self._load()
        key = (self.version, where)
        with self._lock:
            if (found := self._allowed.get(key)) is not None:
                self._allowed.move_to_end(key)
                return found
        if where is None:
            positions = np.arange(len(self._positions_by_id))
        else:  # Lance evaluates the filter, reading only the columns it names: no vectors
            ids = self.dataset.to_table(columns=[], filter=where, with_row_id=True).column("_rowid").to_numpy()
            positions = np.sort(self._positions_by_id[np.searchsorted(self._sorted_ids, ids.astype(np.uint64))])
        with self._lock:
            self._allowed[key] = positions
            while len(self._allowed) > ALLOWED_SETS_KEPT:
                self._allowed.popitem(last=False)
        return positions

    def nearest(self, query: np.ndarray, k: int, where: str | None) -> tuple[np.ndarray, np.ndarray]:
        """(positions, cosine distances) of the k allowed rows nearest `query`, nearest first; ties by position."""
        matrix = self._load()
        allowed = self.allowed(where)
        if self._valid is not None:
            allowed = allowed[self._valid[allowed]]
        if k <= 0 or len(allowed) == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        # einsum, not `matrix @ query`: numpy hands a matrix-vector product to OpenBLAS, whose threads wake up beside
        # Lance's and ONNX Runtime's (1,500 rows, right after a query embedding: 17 ms of CPU instead of 0.1 ms).
        if len(allowed) < SUBSET_SHARE * len(matrix):
            dots = np.einsum("ij,j->i", np.take(matrix, allowed, axis=0), query)
        else:
            dots = np.einsum("ij,j->i", matrix, query)[allowed]
        assert self._norms is not None
        distances = (np.float32(1.0) - dots / (self._norms[allowed] * np.linalg.norm(query))).astype(np.float32)
        if k < len(distances):
            top = np.argpartition(distances, k - 1)[:k]
        else:
            top = np.arange(len(distances))
        top = top[np.lexsort((allowed[top], distances[top]))]
        return allowed[top], distances[top]

    def distances(self, query: np.ndarray, positions: list[int]) -> np.ndarray:
        """Cosine distances of the rows at `positions` (any order) to `query`, as `nearest` computes them."""
        matrix = self._load()
        if not positions:
            return np.empty(0, dtype=np.float32)
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        dots = np.einsum("ij,j->i", np.take(matrix, positions, axis=0), query)
        assert self._norms is not None
        return (np.float32(1.0) - dots / (self._norms[positions] * np.linalg.norm(query))).astype(np.float32)

    def rows(self, columns: list[str], query: np.ndarray, k: int, where: str | None) -> list[dict[str, Any]]:
        """The k nearest allowed rows as dicts of `columns` plus `_distance`, as Lance's flat query returns them."""
        positions, distances = self.nearest(query, k, where)
        found = self.read(columns, positions.tolist())
        for row, distance in zip(found, distances.tolist(), strict=True):
            row["_distance"] = distance
        return found

    def share(self, where: str | None) -> float:
        """The share of this version's rows the filter allows."""
        rows = len(self.allowed(None))
        return len(self.allowed(where)) / rows if rows else 0.0

    def is_allowed(self, positions: list[int], where: str | None) -> np.ndarray:
        """Per position: whether the filter allows that row (membership in the cached allowed set)."""
        allowed = self.allowed(where)
        found = np.searchsorted(allowed, positions)
        return (
            allowed[np.minimum(found, len(allowed) - 1)] == positions
            if len(allowed)
            else np.zeros(len(positions), bool)
        )

    def positions_of(self, row_ids: np.ndarray) -> list[int]:
        """Positions of rows of this version given by their Lance row ids (say from a full-text query)."""
        self._load()
        assert self._sorted_ids is not None and self._positions_by_id is not None
        found = np.searchsorted(self._sorted_ids, np.asarray(row_ids, dtype=np.uint64))
        return self._positions_by_id[found].tolist()

    def read(self, columns: list[str], positions: list[int]) -> list[dict[str, Any]]:
        """The rows at `positions`, in that order, as dicts of `columns` (one `take`)."""
        return self.dataset.take(positions, columns=columns).to_pylist() if positions else []
