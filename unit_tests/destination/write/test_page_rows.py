"""One record -> rows, without LanceDB or a model: the rows, the page hash and the carry-over decision."""

from __future__ import annotations

import pytest

from destination_vectors.config import DestinationConfig
from destination_vectors.embedding.model import load_tokenizer
from destination_vectors.store.row import COLUMN_NAMES
from destination_vectors.write.page_rows import PageRowsBuilder, row_hash
from destination_vectors.write.records import BadRecord
from destination_vectors.write.vectors import chunk_content_hash

TOKENIZER = load_tokenizer()
CONFIG = DestinationConfig(embedding={"model": "test-hash-embedder"})
RECORD = {
    "id": "42",
    "title": "Deploys",
    "body_storage": "<h1>Deploys</h1><h2>Rollback</h2><p>Run the rollback script.</p><h2>Canary</h2><p>Ship to 5%.</p>",
    "space_key": "ENG",
    "space_name": "Engineering",
    "visibility": "public",
    "webui_url": "http://x/42",
    "updated_at": "2026-01-01",
    "version": 2,
}


def _builder(carry=None, max_tokens=64, model="m", config=CONFIG) -> PageRowsBuilder:
    builder = PageRowsBuilder(config, TOKENIZER, max_tokens, model)
    if carry is not None:
        builder.carry_check = carry
    return builder


def test_a_record_becomes_one_row_per_chunk_with_every_column():
    page = _builder()("pages", RECORD, [["id"]])
    assert page.carried == 0 and page.chunks == len(page.rows) == 2, page.rows
    first, second = page.rows
    assert list(first) == list(COLUMN_NAMES), "rows hold exactly the declared columns, in order"
    assert (first["chunk_id"], second["chunk_id"]) == ("pages:42:0", "pages:42:1")
    assert (first["heading_path"], second["heading_path"]) == ("Deploys > Rollback", "Deploys > Canary")
    assert first["text"].startswith("Deploys > Deploys > Rollback") and "rollback script" in first["text"]
    assert (first["space_key"], first["visibility"], first["webui_url"], first["version"]) == (
        "ENG",
        "public",
        "http://x/42",
        2,
    )
    assert first["metadata"] == '{"space_name": "Engineering"}'
    assert first["content_hash"] == chunk_content_hash("m", first["text"])
    assert first["row_hash"] == row_hash(first) and first["page_hash"] == page.page_hash


def test_page_hash_changes_with_every_input_and_only_then():
    builder = _builder()
    base = builder("pages", RECORD, None).page_hash
    assert builder("pages", dict(RECORD), None).page_hash == base, "the same record gives the same hash"
    changes = {
        "title": {**RECORD, "title": "Other"},
        "body": {**RECORD, "body_storage": "<p>new</p>"},
        "column": {**RECORD, "webui_url": "http://x/moved"},
        "version": {**RECORD, "version": 3},
        "visibility": {**RECORD, "visibility": "internal"},
        "metadata": {**RECORD, "space_name": "Eng"},
    }
    for what, record in changes.items():
        assert builder("pages", record, None).page_hash != base, f"a changed {what} must change the page hash"
    assert builder("blogposts", RECORD, None).page_hash != base, "the stream is part of the page"
    assert _builder(max_tokens=128)("pages", RECORD, None).page_hash != base, "chunk size is an input"
    assert _builder(model="other")("pages", RECORD, None).page_hash != base, "the model is an input"


def test_an_unchanged_page_is_carried_without_chunking(monkeypatch):
    asked = []

    def carry(stream, page_id, page_hash):
        asked.append((stream, page_id))
        return 5 if page_hash == expected else 0

    expected = _builder()("pages", RECORD, None).page_hash
    builder = _builder(carry)
    monkeypatch.setattr(builder, "chunk", lambda document: pytest.fail("a carried page must not be chunked"))
    page = builder("pages", RECORD, None)
    assert (page.carried, page.rows, page.chunks) == (5, [], 5)
    assert asked == [("pages", "42")]
    changed = _builder(carry)("pages", {**RECORD, "title": "New"}, None)
    assert changed.carried == 0 and changed.rows, "a changed page is converted again"


def test_a_bad_record_raises_bad_record_with_its_id():
    with pytest.raises(BadRecord) as error:
        _builder()("pages", {**RECORD, "body_storage": ["not", "text"]}, None)
    assert error.value.page_id == "42"


def test_an_empty_page_still_has_one_row_holding_its_title():
    page = _builder()("pages", {**RECORD, "body_storage": ""}, None)
    assert len(page.rows) == 1 and page.rows[0]["text"].startswith("Deploys")


def test_breadcrumb_names_and_section_links_reach_the_rows():
    record = dict(
        RECORD,
        id="101004",
        title="Rollback",
        body_storage='<h2>Steps to roll back</h2><p><ri:user ri:account-id="5d8a"/> reverts the tag.</p>',
        webui_url="https://acme.atlassian.net/wiki/spaces/ENG/pages/101004/Rollback",
        ancestors=["Engineering Home", "Runbooks"],
        ancestor_ids=["101001", "101002"],
        author_name="Chen Wei",
        user_names={"5d8a": "Chen Wei"},
    )
    (row,) = _builder(max_tokens=128)("pages", record, [["id"]]).rows
    assert row["text"] == "Engineering Home > Runbooks > Rollback > Steps to roll back\n\n@Chen Wei reverts the tag.", (
        f"breadcrumb prefix or mention name wrong: {row['text']!r}"
    )
    assert row["chunk_url"] == record["webui_url"] + "#Steps-to-roll-back", f"section link wrong: {row['chunk_url']}"
    assert row["ancestor_ids"] == ["101001", "101002"] and row["author_name"] == "Chen Wei", row


def test_a_renamed_user_changes_the_page_hash():
    record = dict(RECORD, body_storage='<p><ri:user ri:account-id="5d8a"/></p>', user_names={"5d8a": "Chen Wei"})
    renamed = dict(record, user_names={"5d8a": "Chen Wei-Lin"})
    builder = _builder()
    before, after = builder("pages", record, [["id"]]), builder("pages", renamed, [["id"]])
    assert before.page_hash != after.page_hash, "a new display name must re-index the page on the next re-pull"
    assert "@Chen Wei-Lin" in after.rows[0]["text"], after.rows[0]["text"]
