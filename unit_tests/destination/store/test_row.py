"""The chunk row declared once: schema, record reading, row building, search columns and Hit all follow COLUMNS."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa

from destination_vectors.config import DestinationConfig
from destination_vectors.embedding.model import load_tokenizer
from destination_vectors.read.search import Hit
from destination_vectors.store.row import (
    COLUMN_NAMES,
    COLUMNS,
    HIT_COLUMNS,
    LIST_OF_TEXT,
    Column,
    chunk_schema,
    hit_from_row,
    make_hit_class,
    text_list,
)
from destination_vectors.store.table import rows_to_arrow
from destination_vectors.write.page_rows import PageRowsBuilder
from destination_vectors.write.records import to_document

RECORD = {
    "id": "7",
    "title": "Deploys",
    "body_storage": "<h2>Rollback</h2><p>Run the rollback script.</p>",
    "space_key": "ENG",
    "visibility": "public",
    "webui_url": "http://x/7",
    "updated_at": "2026-01-01",
    "version": 3,
    "labels": ["ops", None, 5],
}


def test_schema_is_the_columns_plus_the_vector():
    schema = chunk_schema(8)
    assert schema.names == [*COLUMN_NAMES, "vector"]
    assert schema.field("vector").type == pa.list_(pa.float32(), 8)
    assert [schema.field(c.name).type for c in COLUMNS] == [c.type for c in COLUMNS]


def test_hit_has_rank_score_and_exactly_the_hit_columns():
    assert [f.name for f in dataclasses.fields(Hit)] == ["rank", "score", *HIT_COLUMNS, "breadcrumb"]
    assert {"chunk_id", "page_id", "title", "text", "visibility", "webui_url"} <= set(HIT_COLUMNS)


def test_a_column_the_table_lacks_comes_back_empty_not_as_an_error():
    row = {name: f"v-{name}" for name in HIT_COLUMNS if name != "space_key"}
    hit = hit_from_row(1, 0.5, row, Hit, breadcrumb="")
    assert hit.space_key == "" and hit.title == "v-title" and hit.to_dict()["rank"] == 1


def test_adding_a_record_column_is_one_declaration():
    """One more Column (here `labels`) reaches the document, the rows, the Arrow table and the Hit, nothing else."""
    columns = (*(c for c in COLUMNS if c.name != "labels"), Column("labels", LIST_OF_TEXT, read=text_list, hit=True))
    config = DestinationConfig(embedding={"model": "test-hash-embedder"})
    document = to_document("pages", RECORD, config, [["id"]], columns)
    assert document.columns["labels"] == ["ops", "5"], "the reader turns the record field into the column value"
    assert "labels" not in document.metadata, "a field with its own column stays out of the metadata JSON"
    builder = PageRowsBuilder(config, load_tokenizer(), 64, "m", columns=columns)
    rows = builder("pages", RECORD, [["id"]]).rows
    assert rows and all(list(row) == [c.name for c in columns] for row in rows)
    assert all(row["labels"] == ["ops", "5"] for row in rows)
    table = rows_to_arrow(rows, np.zeros((len(rows), 4), np.float32), chunk_schema(4, columns))
    assert table.column("labels").type == LIST_OF_TEXT
    hit = hit_from_row(1, 1.0, rows[0], make_hit_class(columns))
    assert hit.labels == ["ops", "5"]


def test_readers_never_raise():
    for column in COLUMNS:
        if column.read is not None:
            for value in (None, "x", 3, {"a": 1}, ["a"], "bad \ud800"):
                column.read(value)
