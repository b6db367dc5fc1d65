"""Comments and attachments join their container: the page or blog post they hang on, from the same sync.

Pure. A child record takes its container's visibility, readers (access) and space, and carries the container's title
and link, so an answer found in a comment or a PDF still names and opens the right page. A child whose container is
not in the sync (outside the configured spaces or labels, or deleted) is not indexed: fail closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CONTAINER_STREAMS = ("pages", "blog_posts")
CHILD_STREAMS = ("comments", "attachments")
FILE_STREAMS = ("attachment_files",)  # bytes for `attachments`, by file transfer: never indexed themselves
INHERITED_FIELDS = ("visibility", "readers", "restricted", "space_key", "space_name", "space_type", "labels")


@dataclass(frozen=True)
class Container:
    id: str
    stream: str
    title: str
    webui_url: str
    inherited: dict[str, Any] = field(default_factory=dict)


def container_of(stream: str, data: Mapping[str, Any]) -> Container | None:
    """What a child needs from a page or blog post record; None for a record without an id."""
    if data.get("id") in (None, ""):
        return None
    inherited = {name: data[name] for name in INHERITED_FIELDS if name in data}
    return Container(str(data["id"]), stream, str(data.get("title") or ""), str(data.get("webui_url") or ""), inherited)


def joined_child(stream: str, data: Mapping[str, Any], container: Container, text: str | None = None) -> dict[str, Any]:
    """The child record as the destination indexes it: container fields in, its own visibility and access out.

    `text` is an attachment's extracted text (plain); comments keep their storage body.
    """
    record = {key: value for key, value in data.items() if key not in INHERITED_FIELDS}
    record.update(container.inherited)
    if "visibility" not in container.inherited:
        record["visibility"] = "internal"  # a container without one: never public
    record["container_title"] = container.title
    record["container_url"] = container.webui_url
    record["container_id"] = container.id
    record["container_stream"] = container.stream
    if stream == "attachments":
        record["title"] = f"{container.title} › {data.get('title') or data.get('id')}"
        record["text"] = text or ""
    else:
        kind = "inline comment" if data.get("kind") == "inline" else "comment"
        record["title"] = f"{container.title} › {kind}"
    return record


def child_container_id(data: Mapping[str, Any]) -> str | None:
    value = data.get("container_id")
    return None if value in (None, "") else str(value)
