"""The live table read with Lance alone: reuse lookups, carried pages, and when carried pages change nothing."""

from pathlib import Path

import numpy as np

from destination_vectors.store.row import COLUMNS, chunk_schema, empty_value
from destination_vectors.store.table import ChunkStore, rows_to_arrow
from destination_vectors.write.carry import CarriedPages, VectorLookup

DIM = 8


def _store(tmp_path: Path, pages: dict[str, list[str]]) -> ChunkStore:
    """A table with one row per page, `pages` by stream."""
    defaults = {column.name: empty_value(column) for column in COLUMNS}
    rows = [
        defaults
        | {
            "chunk_id": f"{stream}:{page}:0",
            "stream": stream,
            "page_id": page,
            "text": f"text {page}",
            "content_hash": f"h-{page}",
            "page_hash": f"p-{page}",
            "embedding_model": "m",
        }
        for stream, ids in pages.items()
        for page in ids
    ]
    store = ChunkStore(str(tmp_path), "chunks")
    staging = store.start_staging(DIM)
    staging.add(rows_to_arrow(rows, np.ones((len(rows), DIM), dtype=np.float32), chunk_schema(DIM)))
    store.commit(staging, list(pages), {})
    return store


def test_lookup_finds_vectors_by_hash_and_model(tmp_path: Path):
    dataset = _store(tmp_path, {"pages": ["1", "2"]}).snapshot().dataset
    found = VectorLookup(dataset, "m")(["h-1", "nope", "it's"])
    assert list(found) == ["h-1"] and found["h-1"].shape == (DIM,)
    assert VectorLookup(dataset, "other-model")(["h-1"]) == {}, "a vector from another model must not be reused"
    assert VectorLookup(None, "m")(["h-1"]) == {}, "no table: nothing to reuse"


def test_no_table_is_never_unchanged(tmp_path: Path):
    assert ChunkStore(str(tmp_path), "chunks").snapshot() is None
    assert not CarriedPages(None, chunk_schema(DIM)).unchanged_by({}, [], {}), "no table: the commit must create it"


def test_unchanged_by_only_when_nothing_would_be_deleted(tmp_path: Path):
    dataset = _store(tmp_path, {"pages": ["1", "2"], "blogposts": ["7"]}).snapshot().dataset
    carried = CarriedPages(dataset, chunk_schema(DIM))
    assert carried.chunks_if_unchanged("pages", "1", "p-1") == 1 and carried.chunks_if_unchanged("pages", "1", "x") == 0
    assert carried.unchanged_by({"pages": ["1", "2"]}, ["pages"], {}), "every live page carried: nothing to do"
    assert not carried.unchanged_by({"pages": ["1"]}, ["pages"], {}), "page 2 must be deleted from a replaced stream"
    assert carried.unchanged_by({"pages": ["1"]}, [], {}), "an append stream deletes nothing"
    assert carried.unchanged_by({"pages": ["1"]}, [], {"pages": {"1", "new"}}), "a new page without rows adds nothing"
    assert not carried.unchanged_by({"pages": ["1"]}, [], {"pages": {"1", "2"}}), "re-sent page 2 was not carried"
    other = CarriedPages(dataset, chunk_schema(DIM + 1))
    assert not other.unchanged_by({}, [], {}), "a table of other columns is rebuilt by the commit"
