"""Record shapes of blog posts, comments and attachments, the attachment verdict and the label scope (pure parts)."""

from __future__ import annotations

from typing import Any

import pytest
from airbyte_cdk.sources.types import StreamSlice

from source_confluence.components import (
    LINK_BASE_KEY,
    AttachmentRecordShaper,
    CommentRecordShaper,
    attachment_verdict,
    labels_admit,
    labels_wanted,
)

BASE = "https://acme.atlassian.net/wiki"
CONFIG: dict[str, Any] = {"normalised_site_base": BASE}


def _shape(shaper: Any, record: dict[str, Any], partition: dict[str, Any] | None = None) -> dict[str, Any]:
    record = {**record, LINK_BASE_KEY: BASE}
    shaper.transform(record, config=CONFIG, stream_slice=StreamSlice(partition=partition or {}, cursor_slice={}))
    return record


def test_v2_inline_reply_comment_shape() -> None:
    record = _shape(
        CommentRecordShaper(api_version="v2"),
        {
            "id": 7,
            "status": "current",
            "title": "Re: Rollback",
            "blogPostId": "55",
            "parentCommentId": "6",
            "version": {"number": 2, "createdAt": "2024-03-10T09:15:00.000Z", "authorId": "acc-2"},
            "body": {"storage": {"representation": "storage", "value": "<p>Yes</p>"}},
            "resolutionStatus": "resolved",
            "properties": {"inlineOriginalSelection": "purge the CDN"},
            "_links": {"webui": "/spaces/ENG/blog/55/x?focusedCommentId=7"},
        },
        {"kind": "inline"},
    )
    assert record == {
        "id": "7",
        "title": "Re: Rollback",
        "status": "current",
        "container_id": "55",
        "container_type": "blogpost",
        "kind": "inline",
        "parent_comment_id": "6",
        "author_id": "acc-2",
        "created_at": None,  # v2 lists carry only the current version: an edited comment's creation time is unknown
        "resolved": True,
        "highlighted_text": "purge the CDN",
        "updated_at": "2024-03-10T09:15:00.000Z",
        "version": 2,
        "body_storage": "<p>Yes</p>",
        "webui_url": BASE + "/spaces/ENG/blog/55/x?focusedCommentId=7",
    }, f"v2 comment shaped wrongly: {record}"


def test_v1_comment_reads_container_ancestors_and_extensions() -> None:
    record = _shape(
        CommentRecordShaper(api_version="v1"),
        {
            "id": "9",
            "type": "comment",
            "status": "current",
            "title": "Re: Failover",
            "container": {"id": "101005", "type": "page"},
            "ancestors": [{"id": "8", "type": "comment"}],
            "space": {"key": "ENG"},
            "history": {
                "createdBy": {"userKey": "u-1", "displayName": "Ann Lee"},
                "createdDate": "2023-12-02T10:00:00.000Z",
            },
            "version": {"number": 1, "when": "2023-12-02T10:00:00.000Z"},
            "extensions": {
                "location": "inline",
                "inlineProperties": {"originalSelection": "promote the replica"},
                "resolution": {"status": "open"},
            },
            "_links": {"webui": "/pages/viewpage.action?pageId=101005&focusedCommentId=9"},
        },
    )
    expected = {"container_id": "101005", "container_type": "page", "kind": "inline", "parent_comment_id": "8"}
    expected |= {"resolved": False, "highlighted_text": "promote the replica", "author_id": "u-1", "space_key": "ENG"}
    expected |= {"author_name": "Ann Lee"}  # search says "comment by Ann Lee"
    assert {k: record[k] for k in expected} == expected, f"v1 comment shaped wrongly: {record}"
    assert record["body_storage"] == "", "a comment without a storage body must carry an empty body"


def test_v2_attachment_shape_links_and_cursor() -> None:
    record = _shape(
        AttachmentRecordShaper(api_version="v2"),
        {
            "id": "att12",
            "status": "current",
            "title": "Spec.PDF",
            "pageId": "101",
            "mediaType": "application/octet-stream",
            "fileSize": 2048,
            "createdAt": "2024-01-01T00:00:00.000Z",
            "comment": "v2 of the spec",
            "downloadLink": "/download/attachments/101/Spec.PDF?version=3&api=v2",
            "webuiLink": "/spaces/ENG/pages/101/X?preview=/101/att12/Spec.PDF",
            "version": {"number": 3, "createdAt": "2024-02-01T10:20:30.400Z"},
        },
    )
    assert record["download_url"] == BASE + "/download/attachments/101/Spec.PDF?version=3&api=v2", "download link"
    assert record["webui_url"].startswith(BASE + "/spaces/ENG/pages/101/"), "web link not absolute"
    assert record["content_cursor"] == "2024-02-01T10:20:30.400000Z", "cursor not in its one fixed form"
    assert (record["version"], record["file_size"], record["container_type"]) == (3, 2048, "page"), record
    assert "extraction" in record and record["extraction"] is None, "a generic PDF by name must be downloadable"


@pytest.mark.parametrize(
    ("media_type", "title", "size", "config", "expected"),
    [
        ("application/pdf", "a.pdf", 10, {}, None),
        ("image/png", "a.png", 10, {}, "unsupported_type"),
        ("application/octet-stream", "notes.MD", 10, {}, None),
        ("application/octet-stream", "tool.exe", 10, {}, "unsupported_type"),
        ("text/csv", "rows.csv", 4_000_000_000, {}, "too_large"),
        ("text/csv", "rows.csv", 2_000, {"attachment_max_bytes": 1_000}, "too_large"),
        ("text/csv", "rows.csv", 10, {"attachment_media_types": ["application/pdf"]}, "unsupported_type"),
        ("text/plain; charset=UTF-8", "a.txt", None, {}, None),
    ],
)
def test_attachment_verdict_from_the_listing(media_type, title, size, config, expected) -> None:
    assert attachment_verdict(media_type, title, size, config) == expected, f"{media_type} {title} {size} {config}"


def test_label_scope() -> None:
    assert labels_admit(["Runbook"], {"include_labels": ["runbook"]}), "include is case-insensitive"
    assert not labels_admit([], {"include_labels": ["runbook"]}), "an unlabelled page passed include_labels"
    assert not labels_admit(["draft", "runbook"], {"exclude_labels": ["draft"]}), "exclude_labels ignored"
    assert labels_admit(None, {}), "no scope must admit everything"
    assert not labels_wanted({}), "labels read without being asked for (costs a CQL listing per 100 pages on Cloud)"
    assert labels_wanted({"exclude_labels": ["x"]}), "a label filter must imply reading labels"


def test_blog_post_schema_declares_the_pages_fields_access_included() -> None:
    """A blog post record is the `pages` record without a parent (docs/records.md, docs/CONTRACTS.md): its JSON schema must
    declare the same fields, `restricted` and `readers` included, so a consumer can read its access from discover."""
    from pathlib import Path

    import yaml

    manifest = yaml.safe_load((Path(__file__).parents[2] / "source_confluence" / "manifest.yaml").read_text())
    pages = set(manifest["schemas"]["pages"]["properties"])
    blog_posts = set(manifest["schemas"]["blog_posts"]["properties"])
    missing = sorted(pages - {"parent_id"} - blog_posts)
    assert not missing, f"the blog_posts schema does not declare these pages fields: {missing}"
    assert manifest["schemas"]["blog_posts"]["properties"]["readers"]["items"] == {"type": "string"}
