import pytest

from destination_vectors.config import DestinationConfig
from destination_vectors.write.records import BadRecord, to_document

PAGE = {
    "id": "123",
    "title": "Rollback",
    "body_storage": "<p>hi</p>",
    "space_key": "ENG",
    "space_name": "Engineering",
    "visibility": "public",
    "webui_url": "https://x/wiki/spaces/ENG/pages/123",
    "updated_at": "2026-01-01T00:00:00Z",
    "version": 4,
}


def test_confluence_page_maps_to_columns_and_metadata():
    doc = to_document("pages", PAGE, DestinationConfig(), [["id"]])
    assert (doc.page_id, doc.title, doc.columns["space_key"], doc.visibility, doc.version) == (
        "123",
        "Rollback",
        "ENG",
        "public",
        4,
    )
    assert doc.body_is_storage
    assert doc.metadata == {"space_name": "Engineering"}, "non-column metadata fields go to the metadata JSON"


def test_missing_visibility_takes_the_safe_default():
    record = dict(PAGE)
    del record["visibility"]
    assert to_document("pages", record, DestinationConfig(), None).visibility == "internal"


def test_unknown_visibility_value_is_not_trusted():
    assert to_document("pages", {**PAGE, "visibility": "PUBLIC!"}, DestinationConfig(), None).visibility == "internal"


def test_a_restricted_record_is_internal_whatever_its_visibility_says():
    """Access fails closed in the destination too: `restricted: true` beats a record's `visibility: public`, and the
    access columns are copied as the source sent them."""
    record = {**PAGE, "restricted": True, "readers": ["user:5d8a", "group:hr-team"]}
    doc = to_document("pages", record, DestinationConfig(), None)
    assert doc.visibility == "internal", "a restricted page claiming public visibility was indexed as public"
    assert doc.columns["restricted"] is True and doc.columns["readers"] == ["user:5d8a", "group:hr-team"], doc.columns
    open_page = to_document("pages", {**PAGE, "restricted": False, "readers": ["anonymous"]}, DestinationConfig(), None)
    assert open_page.visibility == "public", "an unrestricted public page must stay public"


def test_missing_body_is_empty_text_and_non_string_body_is_bad():
    assert to_document("pages", {**PAGE, "body_storage": None}, DestinationConfig(), None).body == ""
    with pytest.raises(BadRecord) as error:
        to_document("pages", {**PAGE, "body_storage": {"value": 1}}, DestinationConfig(), None)
    assert error.value.page_id == "123", "bad records must carry their page id for the log"


def test_missing_primary_key_is_bad():
    with pytest.raises(BadRecord, match="no primary key"):
        to_document("pages", {"title": "x"}, DestinationConfig(), [["id"]])


def test_composite_and_nested_primary_keys():
    doc = to_document(
        "issues", {"k": {"a": 1}, "b": "x", "text": "t"}, DestinationConfig(text_field="text"), [["k", "a"], ["b"]]
    )
    assert doc.page_id == "1|x"
    assert not doc.body_is_storage, "a field other than body_storage is plain text in auto mode"


def test_lone_surrogates_are_replaced_not_crashing():
    doc = to_document("pages", {**PAGE, "body_storage": "<p>bad \ud800 half</p>"}, DestinationConfig(), None)
    doc.body.encode("utf-8")
    assert doc.content_hash


def test_content_hash_changes_with_title_or_body_only():
    base = to_document("pages", PAGE, DestinationConfig(), None).content_hash
    assert to_document("pages", {**PAGE, "version": 9}, DestinationConfig(), None).content_hash == base
    assert to_document("pages", {**PAGE, "title": "Other"}, DestinationConfig(), None).content_hash != base


def test_each_stream_has_its_text_mapping_and_it_can_be_overridden():
    from destination_vectors.config import DestinationConfig
    from destination_vectors.write.records import to_document

    config = DestinationConfig(embedding={"model": "test-hash-embedder"})
    attachment = to_document("attachments", {"id": "att1", "text": "<b>plain</b>", "body_storage": "x"}, config, None)
    assert (attachment.body, attachment.body_is_storage) == ("<b>plain</b>", False), "attachments: text, plain"
    comment = to_document("comments", {"id": "9", "body_storage": "<p>hi</p>"}, config, None)
    assert comment.body_is_storage and comment.body == "<p>hi</p>", "comments: body_storage, storage"
    overridden = DestinationConfig(
        embedding={"model": "test-hash-embedder"},
        stream_mappings={"comments": {"text_field": "summary", "text_format": "plain"}},
    )
    comment = to_document("comments", {"id": "9", "summary": "short", "body_storage": "<p>hi</p>"}, overridden, None)
    assert (comment.body, comment.body_is_storage) == ("short", False), "the per-stream override was ignored"
    page = to_document("pages", {"id": "1", "body_storage": "<p>p</p>"}, overridden, None)
    assert page.body_is_storage, "pages keep text_field / text_format"
