"""No empty chunks, ever: a record with no text after conversion is not indexed and is counted by stream; the
`spaces` stream, when a catalog selects it, is counted and skipped; a record without `visibility` is internal."""

from __future__ import annotations

import logging

from airbyte_cdk.models import Type

from destination_vectors.destination import DestinationVectors
from destination_vectors.store.table import ChunkStore
from testkit.messages import catalog, page, record, state

STREAMS = ["spaces", "pages", "comments"]


def test_textless_records_and_spaces_are_counted_by_stream_never_indexed(config, caplog):
    space = {"id": "9901", "key": "ENG", "name": "Engineering", "type": "global", "visibility": "public"}
    untitled = {"id": "7", "title": "", "body_storage": "", "space_key": "ENG", "visibility": "public"}
    no_visibility = {"id": "8", "title": "Runbook", "body_storage": "<p>restart the queue</p>", "space_key": "ENG"}
    messages = [
        record(space, "spaces"),
        record({**space, "id": "9902", "key": "OPS", "name": "Operations"}, "spaces"),
        record(page("1", "Rollback", "<p>roll back with the script</p>")),
        record(untitled),
        record(no_visibility),
        state("spaces"),
        state("pages"),
        state("comments"),
    ]
    with caplog.at_level(logging.INFO, logger="airbyte"):
        out = list(DestinationVectors().write(config.model_dump(), catalog(STREAMS, "overwrite"), iter(messages)))
    assert any(m.type == Type.STATE for m in out), "the sync committed nothing"
    rows = ChunkStore.from_config(config).open_live().to_arrow().to_pylist()
    assert rows and all(row["text"].strip() for row in rows), f"an empty chunk was indexed: {rows}"
    assert {row["stream"] for row in rows} == {"pages"}, "a space record must not become a chunk"
    assert sorted(row["page_id"] for row in rows) == ["1", "8"], "the record without text must not be indexed"
    visibility = {row["page_id"]: row["visibility"] for row in rows}
    assert visibility["8"] == "internal", "a record without visibility must be internal, never public"
    summary = next(r.getMessage() for r in caplog.records if "succeeded" in r.getMessage())
    assert "3 without text not indexed (pages 1, spaces 2)" in summary, summary
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("stream spaces:")]
    assert lines == ["stream spaces: 2 records not indexed: a space record has no text of its own (its pages carry "
                     "the space key)"], lines  # fmt: skip
