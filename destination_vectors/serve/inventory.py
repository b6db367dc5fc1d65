"""What was synced, as a person browsing the index sees it: spaces, each space's pages, the attachments' statuses.

Every listing reads the live snapshot through the service's fixed access filter (the same one search applies), so a
page outside the scope is absent here exactly as it is from search: a listing never learns what it may not show.
Attachment statuses live outside the table (the text cache); one is shown only when its page, or the attachment
itself, is a row within the scope, so an attachment of a restricted page stays hidden (fail closed).

The per-page summary is computed once per table version: browsing costs one scan per sync, not one per request.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from destination_vectors.config import DestinationConfig
from destination_vectors.serve.service import IndexService, ServiceError
from destination_vectors.store.attachment_statuses import human_size

CONTAINER_STREAMS = ("pages", "blog_posts")  # what a tree lists; comments and attachments gather under their page
SUMMARY_COLUMNS = ("stream", "page_id", "title", "space_key", "webui_url", "updated_at", "metadata")
OPTIONAL_COLUMNS = ("ancestors", "ancestor_ids", "labels", "container_url")  # absent from tables of older versions


@dataclass
class PageEntry:
    """One page or blog post (or a comment or attachment, counted on its page) within the scope."""

    stream: str
    page_id: str
    title: str
    space_key: str
    url: str
    updated_at: str
    chunks: int = 0
    ancestors: list[str] = field(default_factory=list)  # titles, root first
    ancestor_ids: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    container_url: str = ""  # comments and attachments: their page's link
    comments: int = 0  # on a page: its comments and attachments in the index
    attachments: int = 0


@dataclass(frozen=True)
class Summary:
    version: int
    scope: str | None
    entries: list[PageEntry]
    space_names: dict[str, str]

    def spaces(self) -> list[dict[str, Any]]:
        by_space: dict[str, dict[str, Any]] = {}
        for entry in self.entries:
            space = by_space.setdefault(
                entry.space_key,
                {
                    "space_key": entry.space_key,
                    "space_name": self.space_names.get(entry.space_key, ""),
                    "pages": 0,
                    "chunks": 0,
                    "updated_at": "",
                },
            )
            space["chunks"] += entry.chunks
            if entry.stream in CONTAINER_STREAMS:
                space["pages"] += 1
            space["updated_at"] = max(space["updated_at"], entry.updated_at or "")
        return sorted(by_space.values(), key=lambda space: space["space_key"])

    def pages_of(self, space_key: str) -> list[PageEntry]:
        return [e for e in self.entries if e.space_key == space_key and e.stream in CONTAINER_STREAMS]

    def page(self, page_id: str) -> PageEntry | None:
        return next((e for e in self.entries if e.page_id == page_id and e.stream in CONTAINER_STREAMS), None)

    def facets(self) -> dict[str, list[str]]:
        """The values the search filters offer: only those of rows within the scope."""
        return {
            "spaces": sorted({e.space_key for e in self.entries}),
            "streams": sorted({e.stream for e in self.entries}),
            "labels": sorted({label for e in self.entries for label in e.labels}),
        }


class Inventory:
    def __init__(self, service: IndexService, config: DestinationConfig) -> None:
        self._service = service
        self._config = config
        self._lock = threading.Lock()
        self._summary: Summary | None = None

    def summary(self) -> Summary:
        snapshot = self._service.snapshot()
        scope = self._service.scope_filter()  # a person's groups can change with a sync, as the version does
        with self._lock:
            if self._summary is None or (self._summary.version, self._summary.scope) != (snapshot.version, scope):
                self._summary = _summarise(snapshot, scope)
            return self._summary

    def attachments(self, status: str | None = None) -> list[dict[str, Any]]:
        """Recorded extraction statuses of the attachments within the scope, newest sync first."""
        from destination_vectors.store.attachment_statuses import StatusesUnavailable, read_statuses
        from destination_vectors.store.text_cache import text_cache_path
        from destination_vectors.text.extract.formats import resolve_format

        path = text_cache_path(self._config)
        if not path.exists():
            return []
        try:
            rows = read_statuses(path, status)
        except StatusesUnavailable as error:
            raise ServiceError(str(error)) from None
        summary = self.summary()
        visible = {e.page_id for e in summary.entries if e.stream in (*CONTAINER_STREAMS, "attachments")}
        pages = {e.page_id: e for e in summary.entries if e.stream in CONTAINER_STREAMS}
        shown = []
        for row in rows:
            if row.container_id not in visible and row.id not in visible:
                continue  # its page is outside the scope (or not indexed): fail closed
            page = pages.get(row.container_id)
            kind, _, reason = row.status.partition(":")
            shown.append(
                {
                    "id": row.id,
                    "title": row.title,
                    "page_title": page.title if page else row.container_title,
                    "page_url": page.url if page else "",
                    "space_key": page.space_key if page else "",
                    "media_type": row.media_type,
                    "kind": resolve_format(row.media_type, row.title) or row.media_type,
                    "size": human_size(row.file_size),
                    "status": kind.strip(),
                    "reason": reason.strip() or (row.detail if kind != "ok" else row.note),
                    "synced_at": row.synced_at,
                }
            )
        return shown


def _summarise(snapshot: Any, scope: str | None) -> Summary:
    dataset = snapshot.dataset
    columns = [*SUMMARY_COLUMNS, *(name for name in OPTIONAL_COLUMNS if name in snapshot.columns)]
    table = dataset.to_table(columns=columns, filter=scope).to_pylist()
    entries: dict[tuple[str, str], PageEntry] = {}
    space_names: dict[str, str] = {}
    for row in table:
        key = (row["stream"], row["page_id"])
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = PageEntry(
                stream=row["stream"],
                page_id=row["page_id"],
                title=row["title"] or "",
                space_key=row["space_key"] or "",
                url=row["webui_url"] or "",
                updated_at=row["updated_at"] or "",
                ancestors=list(row.get("ancestors") or []),
                ancestor_ids=list(row.get("ancestor_ids") or []),
                labels=list(row.get("labels") or []),
                container_url=row.get("container_url") or "",
            )
            if entry.space_key not in space_names:
                space_names[entry.space_key] = _space_name(row["metadata"])
        entry.chunks += 1
    _count_children(list(entries.values()))
    ordered = sorted(entries.values(), key=lambda e: (e.space_key, e.title.casefold(), e.page_id))
    return Summary(snapshot.version, scope, ordered, space_names)


def _count_children(entries: Sequence[PageEntry]) -> None:
    """Comments and attachments counted on their page (matched by its link, which both carry)."""
    by_url = {e.url: e for e in entries if e.stream in CONTAINER_STREAMS and e.url}
    for entry in entries:
        page = by_url.get(entry.container_url) if entry.container_url else None
        if page is None:
            continue
        if entry.stream == "comments":
            page.comments += 1
        elif entry.stream == "attachments":
            page.attachments += 1


def _space_name(metadata_json: str | None) -> str:
    try:
        return str(json.loads(metadata_json or "{}").get("space_name") or "")
    except (ValueError, AttributeError):
        return ""
