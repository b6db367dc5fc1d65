"""In-memory flat search: Lance's answers (filter before ranking, cosine distances), one matrix per table version."""

from pathlib import Path

import lance
import lancedb
import numpy as np
import pyarrow as pa
import pytest

from destination_vectors.store.flat import ALLOWED_SETS_KEPT, FlatVectors
from destination_vectors.store.table import ChunkStore

DIM = 16


def _table(ids: range, visibility: list[str], seed: int = 0) -> pa.Table:
    """Rows with non-normalised random vectors (search must not assume unit length)."""
    vectors = np.random.default_rng(seed).normal(size=(len(ids), DIM)).astype(np.float32) * 3
    return pa.table(
        {
            "chunk_id": [f"c{i}" for i in ids],
            "visibility": visibility,
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), DIM),
        }
    )


def _lance_flat(dataset, query: np.ndarray, k: int, where: str | None) -> list[tuple[str, float]]:
    found = dataset.to_table(
        columns=["chunk_id", "_distance"],
        nearest={"column": "vector", "q": query, "k": k, "metric": "cosine"},
        filter=where,
        prefilter=True,
    )
    return list(zip(found["chunk_id"].to_pylist(), found["_distance"].to_pylist(), strict=True))


def test_answers_match_lance_flat_query_with_and_without_a_filter(tmp_path: Path):
    visibility = ["public" if i % 3 == 0 else "internal" for i in range(300)]
    table = lancedb.connect(str(tmp_path)).create_table("t", data=_table(range(300), visibility))
    dataset = table.to_lance()
    flat = FlatVectors(dataset)
    queries = np.random.default_rng(1).normal(size=(20, DIM)).astype(np.float32)
    for query in queries:
        for where in (None, "visibility = 'public'", "visibility = 'internal' AND chunk_id < 'c2'"):
            for k in (1, 10, 150):
                want = _lance_flat(dataset, query, k, where)
                got = [(row["chunk_id"], row["_distance"]) for row in flat.rows(["chunk_id"], query, k, where)]
                assert [c for c, _ in got] == [c for c, _ in want], f"order differs from Lance (k={k}, {where})"
                worst = max(abs(a - b) for (_, a), (_, b) in zip(got, want, strict=True))
                assert worst < 1e-6, f"distance differs from Lance's by {worst} (k={k}, {where})"


def test_k_readable_rows_come_back_under_a_restrictive_filter(tmp_path: Path):
    """The few readable rows are the farthest from the query: ranking first and filtering after would return none."""
    rows = 200
    vectors = np.tile(np.eye(1, DIM, 0, dtype=np.float32), (rows, 1))
    vectors[-5:] = np.eye(1, DIM, 1, dtype=np.float32)  # orthogonal to the query
    data = pa.table(
        {
            "chunk_id": [f"c{i:03d}" for i in range(rows)],
            "visibility": ["internal"] * (rows - 5) + ["public"] * 5,
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), DIM),
        }
    )
    flat = FlatVectors(lancedb.connect(str(tmp_path)).create_table("t", data=data).to_lance())
    query = np.eye(1, DIM, 0, dtype=np.float32)[0]
    found = flat.rows(["chunk_id", "visibility"], query, 5, "visibility = 'public'")
    assert [row["chunk_id"] for row in found] == [f"c{i:03d}" for i in range(rows - 5, rows)], found
    assert {row["visibility"] for row in found} == {"public"}, "a row the filter excludes was returned"
    assert len(flat.rows(["chunk_id"], query, 50, "visibility = 'public'")) == 5, "more rows than readable"


def test_the_allowed_set_cache_is_per_version_and_per_filter(tmp_path: Path):
    table = lancedb.connect(str(tmp_path)).create_table("t", data=_table(range(6), ["public", "internal"] * 3))
    first = FlatVectors(table.to_lance())
    public, internal = first.allowed("visibility = 'public'"), first.allowed("visibility = 'internal'")
    assert public.tolist() == [0, 2, 4] and internal.tolist() == [1, 3, 5], "each filter must get its own set"
    assert first.allowed("visibility = 'public'") is public, "the same filter on the same version: cached"
    table.add(_table(range(6, 8), ["public", "public"], seed=2))
    table.delete("chunk_id = 'c0'")
    second = FlatVectors(table.to_lance())
    assert second.version != first.version
    rows = second.dataset.take(second.allowed("visibility = 'public'").tolist(), columns=["chunk_id"])
    assert sorted(rows["chunk_id"].to_pylist()) == ["c2", "c4", "c6", "c7"], "a set of another version was served"
    assert first.allowed("visibility = 'public'").tolist() == [0, 2, 4], "the old version keeps its own set"
    for n in range(ALLOWED_SETS_KEPT + 5):  # the cache stays small: the oldest filters are dropped
        first.allowed(f"chunk_id <> 'x{n}'")
    assert len(first._allowed) == ALLOWED_SETS_KEPT


def test_the_matrix_is_loaded_once_per_version_and_rebuilt_after_a_commit(tmp_path: Path):
    table = lancedb.connect(str(tmp_path)).create_table("chunks", data=_table(range(4), ["public"] * 4))
    store = ChunkStore(str(tmp_path), "chunks")
    first = store.snapshot()
    assert first.flat.nbytes == 0, "nothing loaded before the first search"
    query = np.ones(DIM, dtype=np.float32)
    first.flat.rows(["chunk_id"], query, 10, None)
    assert first.flat.nbytes == 4 * DIM * 4, "rows x dimension x 4 bytes"
    assert store.snapshot(first).flat is first.flat, "no commit: the same matrix"
    table.add(_table(range(4, 6), ["public"] * 2, seed=3))
    second = store.snapshot(first)
    assert second.flat is not first.flat and second.flat.version == second.version, "a commit must start a new matrix"
    found = {row["chunk_id"] for row in second.flat.rows(["chunk_id"], query, 10, None)}
    assert found == {f"c{i}" for i in range(6)}, f"the new version's rows were not searched: {found}"
    assert second.flat.nbytes == 6 * DIM * 4


@pytest.mark.parametrize("k", [0, 3])
def test_no_allowed_row_or_no_k_gives_no_answer(tmp_path: Path, k: int):
    flat = FlatVectors(
        lancedb.connect(str(tmp_path)).create_table("t", data=_table(range(3), ["internal"] * 3)).to_lance()
    )
    assert flat.rows(["chunk_id"], np.ones(DIM, np.float32), k, "visibility = 'public'") == []


def test_rows_without_a_vector_are_never_hits_as_in_lance(tmp_path: Path):
    values = pa.array(np.random.default_rng(0).normal(size=10 * DIM).astype(np.float32))
    nulls = pa.array([i in (1, 4) for i in range(10)])
    data = pa.table(
        {
            "chunk_id": [f"c{i}" for i in range(10)],
            "visibility": ["public"] * 10,
            "vector": pa.FixedSizeListArray.from_arrays(values, DIM, mask=nulls),
        }
    )
    dataset = lance.write_dataset(
        data, tmp_path / "t.lance"
    )  # LanceDB refuses null vectors; a Lance table may hold them
    query = np.ones(DIM, dtype=np.float32)
    got = [(row["chunk_id"], row["_distance"]) for row in FlatVectors(dataset).rows(["chunk_id"], query, 10, None)]
    want = _lance_flat(dataset, query, 10, None)
    assert [c for c, _ in got] == [c for c, _ in want] and len(got) == 8, f"null vectors: {got} vs Lance {want}"
