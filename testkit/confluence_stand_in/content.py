"""Content beside pages: blog posts, footer/inline comments and attachments, and their sample-site files.

Ids are numeric and unique across pages, blog posts, comments and attachments (Confluence content ids share one
sequence); the APIs serve attachment ids with Confluence's `att` prefix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

COMMENT_KINDS = ("footer", "inline")


@dataclass(frozen=True, kw_only=True)
class Document:
    """What a page and a blog post both are: storage-format XHTML in a space, with labels; `version` and
    `updated_at` move together on every edit. `site.Page` adds the parent."""

    id: str
    space_key: str
    title: str
    author_id: str
    created_at: str
    updated_at: str
    version: int
    body: str
    status: str = "current"
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class BlogPost(Document):
    """A blog post: the page shape without a parent."""


@dataclass(frozen=True)
class Comment:
    """A footer or inline comment on a page or blog post; a reply has `parent_id` (a comment of the same kind)."""

    id: str
    container_id: str
    kind: str
    body: str
    author_id: str
    created_at: str
    updated_at: str
    version: int = 1
    parent_id: str | None = None
    resolved: bool = False  # inline only
    selection: str = ""  # inline only: the highlighted text
    status: str = "current"

    def __post_init__(self) -> None:
        if self.kind not in COMMENT_KINDS:
            raise ValueError(f"comment {self.id}: kind must be one of {COMMENT_KINDS}, got {self.kind!r}")


@dataclass(frozen=True)
class Attachment:
    """A file on a page or blog post; `version` and `updated_at` move together when a new file is uploaded."""

    id: str
    container_id: str
    title: str
    media_type: str
    data: bytes | None  # None: made from `generate` (JSON) on first use, once per process
    author_id: str
    created_at: str
    updated_at: str
    version: int = 1
    comment: str = ""
    status: str = "current"
    generate: str | None = None

    @property
    def api_id(self) -> str:
        return f"att{self.id}"

    @property
    def content(self) -> bytes:
        return self.data if self.data is not None else _generated(self.generate or "{}")


@lru_cache(maxsize=64)
def _generated(spec: str) -> bytes:
    return generate_file(json.loads(spec))


def generate_file(spec: dict[str, Any]) -> bytes:
    """Bytes for an attachment entry's `generate` spec, written by testkit.attachment_files (nothing copied in)."""
    from testkit import attachment_files as files

    kind = spec["kind"]
    if kind == "pdf":
        return files.pdf_bytes(spec["lines"])
    if kind == "corrupt_pdf":
        return files.corrupt_pdf_bytes()
    if kind == "docx":
        return files.docx_bytes(spec["paragraphs"], spec.get("table"))
    if kind == "zip_bomb_docx":
        return files.zip_bomb_docx_bytes(int(spec.get("uncompressed_bytes", 300 * 1024 * 1024)))
    if kind == "pptx":
        return files.pptx_bytes([tuple(slide) for slide in spec["slides"]])  # type: ignore[misc]
    if kind == "xlsx":
        return files.xlsx_bytes(spec["sheets"])
    if kind == "csv":
        return files.csv_bytes(spec["rows"])
    if kind == "html":
        return files.html_bytes(spec["title"], spec["body"])
    if kind == "json":
        return files.json_bytes(spec["value"])
    if kind == "text":
        return str(spec["text"]).encode("utf-8")
    raise ValueError(f"unknown attachment kind {kind!r}")


def entry_fields(entry: dict[str, Any], default_author: str, normalize: Any) -> dict[str, Any]:
    """The fields every sample-site entry (page, blog post, comment, attachment) fills the same way: id, author,
    created and updated times (updated defaults to created), version."""
    created = normalize(str(entry.get("created_at", "2024-01-15T09:00:00Z")))
    return {
        "id": str(entry["id"]),
        "author_id": str(entry.get("author_id", default_author)),
        "created_at": created,
        "updated_at": normalize(str(entry.get("updated_at", created))),
        "version": int(entry.get("version", 1)),
    }


def document_fields(
    entry: dict[str, Any], space_key: str, space_dir: Path, default_author: str, normalize: Any
) -> dict[str, Any]:
    """A page's or blog post's fields (`Document`) from its sample-site entry; the body file is read byte for byte."""
    return {
        **entry_fields(entry, default_author, normalize),
        "space_key": space_key,
        "title": str(entry["title"]),
        "body": (space_dir / str(entry["file"])).read_bytes().decode("utf-8"),  # no newline translation
        "status": str(entry.get("status", "current")),
        "labels": tuple(str(label) for label in entry.get("labels", ())),
    }


def load_space_extras(
    space_key: str, space_dir: Path, default_author: str, normalize: Any
) -> tuple[list[BlogPost], list[Comment], list[Attachment]]:
    """Read `blogposts.json`, `comments.json` and `attachments.json` of a space folder (each optional)."""

    def read(name: str) -> list[dict[str, Any]]:
        file = space_dir / name
        return json.loads(file.read_text(encoding="utf-8")) if file.exists() else []

    posts = [
        BlogPost(**document_fields(entry, space_key, space_dir, default_author, normalize))
        for entry in read("blogposts.json")
    ]
    comments = [
        Comment(
            **entry_fields(entry, default_author, normalize),
            container_id=str(entry["container_id"]),
            kind=str(entry.get("kind", "footer")),
            body=str(entry["body"]),
            parent_id=None if entry.get("parent_id") is None else str(entry["parent_id"]),
            resolved=bool(entry.get("resolved", False)),
            selection=str(entry.get("selection", "")),
        )
        for entry in read("comments.json")
    ]
    attachments = []
    for entry in read("attachments.json"):
        data = (space_dir / entry["file"]).read_bytes() if "file" in entry else None
        attachments.append(
            Attachment(
                **entry_fields(entry, default_author, normalize),
                container_id=str(entry["container_id"]),
                title=str(entry["title"]),
                media_type=str(entry["media_type"]),
                data=data,
                comment=str(entry.get("comment", "")),
                generate=None if data is not None else json.dumps(entry["generate"], sort_keys=True),
            )
        )
    return posts, comments, attachments
