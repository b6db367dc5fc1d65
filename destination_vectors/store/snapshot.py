"""The live table at one version, read with Lance alone: what searches query, and what a sync starts from (the
model it was embedded with; vectors by content hash and the pages carried over as they are are in write/carry.py).

Reading needs only `lance` (pylance), not LanceDB, whose import costs seconds: a search, or a sync that finds nothing
to write, never imports LanceDB (`table.ChunkStore` opens a local table with Lance and imports LanceDB to write).
"""

from __future__ import annotations

from dataclasses import dataclass

import lance

from destination_vectors.store.flat import FlatVectors


def quote(value: str) -> str:
    """SQL string literal for Lance filters: the only way a value enters a filter."""
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Snapshot:
    """One version of the live table, as the Lance dataset searches read directly: every query of one search reads
    this version (a commit landing meanwhile is seen whole or not at all), and what a search checks first (columns,
    indexes, model) is read once per version instead of once per query."""

    dataset: lance.LanceDataset
    version: int
    columns: frozenset[str]
    indexed: frozenset[tuple[str, ...]]  # the columns of each index
    embedding_model: str | None  # of the table's first row; None when the table has no such column or no rows
    rows: int
    flat: FlatVectors  # this version's vectors in memory, loaded by the first flat search (search.py decides when)


def snapshot_of(dataset: lance.LanceDataset) -> Snapshot:
    columns = frozenset(dataset.schema.names)
    model = None
    if "embedding_model" in columns:
        first = dataset.to_table(columns=["embedding_model"], limit=1).column("embedding_model").to_pylist()
        model = first[0] if first else None
    indexed = frozenset(tuple(index.field_names) for index in dataset.describe_indices())
    return Snapshot(dataset, dataset.version, columns, indexed, model, dataset.count_rows(), FlatVectors(dataset))
