"""The swap: one commit per sync, exact replacement of overwritten streams, reuse lookups, housekeeping."""

from pathlib import Path

import numpy as np

from destination_vectors.store.row import COLUMNS, chunk_schema, empty_value
from destination_vectors.store.table import ChunkStore, quote, rows_to_arrow

DIM = 8


def _rows(stream: str, ids: list[str], text: str = "text") -> list[dict]:
    defaults = {column.name: empty_value(column) for column in COLUMNS}  # columns these tests do not look at
    return [
        defaults
        | {
            "chunk_id": f"{stream}:{i}:0",
            "stream": stream,
            "page_id": i,
            "chunk_index": 0,
            "title": f"T{i}",
            "heading_path": "",
            "text": f"{text} {i}",
            "space_key": "ENG",
            "visibility": "public",
            "webui_url": f"http://x/{i}",
            "updated_at": "",
            "version": 1,
            "content_hash": f"h-{text}-{i}",
            "row_hash": f"r-{text}-{i}",
            "page_hash": f"p-{text}-{i}",
            "metadata": "{}",
            "embedding_model": "m",
        }
        for i in ids
    ]


def _stage(store: ChunkStore, rows: list[dict]):
    staging = store.start_staging(DIM)
    vectors = np.random.default_rng(0).random((len(rows), DIM), dtype=np.float32)
    staging.add(rows_to_arrow(rows, vectors, chunk_schema(DIM)))
    return staging


def _ids(store: ChunkStore) -> list[str]:
    return sorted(store.open_live().to_arrow()["chunk_id"].to_pylist())


def test_overwrite_replaces_exactly_the_stream_in_one_version(tmp_path: Path):
    store = ChunkStore(str(tmp_path), "chunks")
    first = store.commit(_stage(store, _rows("pages", ["1", "2", "3"]) + _rows("other", ["9"])), ["pages", "other"], {})
    second = store.commit(_stage(store, _rows("pages", ["2", "4"])), ["pages"], {})
    assert second.version == first.version + 1, "the swap must be a single commit"
    assert _ids(store) == ["other:9:0", "pages:2:0", "pages:4:0"], "pages 1 and 3 must be gone, stream other kept"
    assert (second.inserted, second.deleted) == (1, 2)
    assert second.updated == 0, "an unchanged row (same row_hash) must not be rewritten"


def test_readers_pinned_to_the_old_version_keep_reading_it(tmp_path: Path):
    store = ChunkStore(str(tmp_path), "chunks")
    store.commit(_stage(store, _rows("pages", ["1", "2"])), ["pages"], {})
    reader = store.open_live()
    store.commit(_stage(store, _rows("pages", ["3"])), ["pages"], {})
    assert sorted(reader.to_arrow()["chunk_id"].to_pylist()) == ["pages:1:0", "pages:2:0"]
    assert _ids(store) == ["pages:3:0"]


def test_a_snapshot_is_kept_until_a_commit_then_moves_to_the_new_version(tmp_path: Path):
    store = ChunkStore(str(tmp_path), "chunks")
    assert store.snapshot() is None, "no table yet: no snapshot"
    store.commit(_stage(store, _rows("pages", ["1", "2"])), ["pages"], {})
    first = store.snapshot()
    assert first is not None and first.embedding_model == "m" and "labels" in first.columns
    assert store.snapshot(first) is first, "nothing committed since: the same snapshot, no re-open"
    store.commit(_stage(store, _rows("pages", ["3"])), ["pages"], {})
    second = store.snapshot(first)
    assert second.version > first.version, "a commit must be seen by the next snapshot"
    assert sorted(second.dataset.to_table(columns=["chunk_id"])["chunk_id"].to_pylist()) == ["pages:3:0"]
    assert first.dataset.to_table(columns=["chunk_id"]).num_rows == 2, "the old snapshot keeps reading its version"
    store.housekeeping(second.version, keep_snapshots=2)
    third = store.snapshot(second)
    assert ("text",) in third.indexed and ("text",) not in second.indexed, "indexes are read per version"


def test_append_dedup_deletes_only_resent_pages_stale_chunks(tmp_path: Path):
    store = ChunkStore(str(tmp_path), "chunks")
    rows = _rows("pages", ["1", "2"])
    rows.append({**rows[0], "chunk_id": "pages:1:1", "chunk_index": 1, "content_hash": "x", "row_hash": "y"})
    store.commit(_stage(store, rows), [], {})
    store.commit(_stage(store, _rows("pages", ["1"], text="new")), [], {"pages": {"1"}})
    assert _ids(store) == ["pages:1:0", "pages:2:0"], "page 1's second chunk must go, page 2 untouched"


def test_housekeeping_keeps_tagged_snapshots_and_builds_indexes(tmp_path: Path):
    store = ChunkStore(str(tmp_path), "chunks")
    for round_ in range(4):
        result = store.commit(_stage(store, _rows("pages", ["1", str(10 + round_)], text=f"r{round_}")), ["pages"], {})
        store.housekeeping(result.version, keep_snapshots=2)
    table = store.open_live()
    tags = table.tags.list()
    assert len(tags) == 2, f"only the last 2 snapshots should stay tagged, got {tags}"
    columns = {tuple(index.columns) for index in table.list_indices()}
    assert ("text",) in columns and ("content_hash",) in columns
    assert len(table.list_versions()) <= 4, "old versions must be cleaned up"
    hits = table.search("r3", query_type="fts").select(["chunk_id", "_score"]).limit(5).to_list()
    assert {hit["chunk_id"] for hit in hits} == {"pages:1:0", "pages:13:0"}


def test_quote_escapes_sql():
    assert quote("a'b") == "'a''b'"


def test_an_object_store_refusal_is_one_sentence_naming_what_to_fix():
    from destination_vectors.store.table import describe_store_error

    refused = ValueError(
        'IO { source: Generic { store: "S3", source: ListRequest { inner: Status { status: 403, body: Some("<Error>'
        '<Code>SignatureDoesNotMatch</Code><Message>...</Message></Error>") } } } }'
    )
    message = describe_store_error("s3://bucket/idx", refused)
    assert "SignatureDoesNotMatch (HTTP 403)" in message and "object_storage" in message, message
    unreachable = OSError('ConnectError("tcp connect error", 127.0.0.1:9, Os { kind: ConnectionRefused })')
    assert "object_storage.endpoint" in describe_store_error("s3://bucket/idx", unreachable)
    other = RuntimeError("something else")
    assert describe_store_error("s3://bucket/idx", other) == "something else", "unknown errors pass unchanged"


def test_housekeeping_due_says_what_an_unfinished_housekeeping_left(tmp_path: Path):
    from destination_vectors.store.ann import VectorIndexConfig
    from destination_vectors.store.table import housekeeping_due

    store = ChunkStore(str(tmp_path), "chunks")
    result = store.commit(_stage(store, _rows("pages", ["1", "2"])), ["pages"], {})
    assert "never tagged" in housekeeping_due(store.snapshot(), VectorIndexConfig())
    store.housekeeping(result.version, keep_snapshots=2)
    assert housekeeping_due(store.snapshot(), VectorIndexConfig()) is None, "a finished housekeeping leaves nothing"
    result = store.commit(_stage(store, _rows("pages", ["1", "2", "3"])), ["pages"], {})
    store.open_live().tags.create(f"snapshot-{result.version}", result.version)  # stopped after tagging
    assert "not in index" in housekeeping_due(store.snapshot(), VectorIndexConfig())
    assert "vector index" in housekeeping_due(store.snapshot(), VectorIndexConfig(min_rows=1))
    store.housekeeping(result.version, keep_snapshots=2)  # the tag exists already: finishing it must not fail
    assert housekeeping_due(store.snapshot(), VectorIndexConfig()) is None
