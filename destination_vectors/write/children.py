"""The writer's side of comments and attachments: held until every container of the sync was seen, then joined.

Streams arrive in any order, so child records are spooled to a temporary file (bounded memory) and built at the end,
after the pages and blog posts. Attachment bytes (`attachment_files`, file transfer) are extracted on arrival and
kept by (attachment id, version) in the text cache; a listed attachment takes its text from there.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from destination_vectors.config import DestinationConfig
from destination_vectors.store.attachment_statuses import AttachmentStatus, record_statuses
from destination_vectors.store.text_cache import TextCache, text_cache_path
from destination_vectors.text.extract import Extraction, Extractor
from destination_vectors.text.extract.staged import extract_staged, staged_path
from destination_vectors.write.containers import Container, child_container_id, container_of, joined_child

logger = logging.getLogger("airbyte")


class Children:
    """Containers seen, children spooled, attachment texts extracted and cached; one per sync."""

    def __init__(self, config: DestinationConfig) -> None:
        self.config = config
        self.containers: dict[str, Container] = {}
        self._spool = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self._spooled = 0
        self._extractor: Extractor | None = None
        self.cache = TextCache(text_cache_path(config))
        self.statuses: Counter[str] = Counter()
        self.orphans: Counter[str] = Counter()
        self.listed: set[tuple[str, int]] = set()
        self.outcomes: list[AttachmentStatus] = []  # every listed attachment's final status, recorded after commit
        # person id -> display name, from this sync's pages and blog posts (their authors and the people they
        # mention): names a comment whose record gives only its author's id (Cloud's v2 lists), with no request
        self.names: dict[str, str] = {}

    def close(self) -> None:
        if self._extractor is not None:
            self._extractor.close()
        self._spool.close()
        self.cache.close()

    def note_container(self, stream: str, data: Mapping[str, Any]) -> None:
        container = container_of(stream, data)
        if container is not None:
            self.containers[container.id] = container
        author, name = data.get("author_id"), data.get("author_name")
        if isinstance(author, str) and isinstance(name, str) and author and name:
            self.names[author] = name
        mentioned = data.get("user_names")
        if isinstance(mentioned, Mapping):
            self.names.update((k, v) for k, v in mentioned.items() if isinstance(k, str) and isinstance(v, str) and v)

    def hold(self, stream: str, data: Mapping[str, Any]) -> None:
        self._spool.write(json.dumps([stream, data], ensure_ascii=False) + "\n")
        self._spooled += 1

    def take_file(self, data: Mapping[str, Any], file_reference: Any) -> str:
        """Extract a delivered attachment file into the cache; returns the extraction status."""
        if self._extractor is None:
            self._extractor = Extractor(self.config.attachments)
        path = staged_path(file_reference)
        delivered = _delivered_size(file_reference)
        listed = data.get("file_size")
        if isinstance(listed, int) and delivered is not None and delivered != listed:
            # a file gone between listing and download arrives as the error page: never index that
            extraction = Extraction(
                f"failed: {delivered} bytes delivered, {listed} listed (deleted or changed meanwhile)"
            )
            _remove(path)
        else:
            extraction = extract_staged(self._extractor, path, data.get("media_type"), data.get("title"))
        self.cache.put(str(data.get("id")), _version(data), extraction)
        logger.info(f"attachment {data.get('id')} ({data.get('title')}): extraction {extraction.status}")
        return extraction.status

    def joined(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each held child joined to its container; children without one (or attachments without text) are counted
        and left out."""
        self._spool.seek(0)
        for line in self._spool:
            stream, data = json.loads(line)
            container = self.containers.get(child_container_id(data) or "")
            text = None
            if stream == "attachments":
                self.listed.add((str(data.get("id")), _version(data)))
                extraction = self._attachment_text(data)
                status, text = extraction.status, extraction.text
                self.outcomes.append(_outcome(data, container, extraction))
            if container is None:
                self.orphans[stream] += 1
                continue
            if stream == "attachments":
                self.statuses[status] += 1
                if status != "ok" or not text:
                    continue
            if stream == "comments" and not data.get("author_name") and str(data.get("author_id")) in self.names:
                data = {**data, "author_name": self.names[str(data["author_id"])]}
            yield stream, joined_child(stream, data, container, text)
        if self.orphans:
            logger.info(
                "not indexed, their page or blog post is not in this sync: "
                + ", ".join(f"{count} {stream}" for stream, count in sorted(self.orphans.items()))
            )
        if self.statuses:
            counted = ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items()))
            unindexed = any(status != "ok" for status in self.statuses)
            hint = "; `destination-vectors attachments` lists them after the commit" if unindexed else ""
            logger.info(f"attachments: {counted}{hint}")

    def _attachment_text(self, data: Mapping[str, Any]) -> Extraction:
        listed = data.get("extraction")
        if listed in ("too_large", "unsupported_type"):
            return Extraction(str(listed), detail="the source's verdict from the listing, not downloaded")
        cached = self.cache.get(str(data.get("id")), _version(data))
        if cached is None:
            return Extraction("failed: content not delivered (reset the attachment_files stream to download it)")
        return cached

    def record_outcomes(self, run_id: str, synced_at: str, complete: bool) -> None:
        """After a successful commit: each listed attachment's status, for `destination-vectors attachments`.
        A complete `attachments` listing replaces the previous statuses; a partial one updates them."""
        stamped = [replace(outcome, run_id=run_id, synced_at=synced_at) for outcome in self.outcomes]
        if stamped or complete:
            record_statuses(text_cache_path(self.config), stamped, complete)

    def forget_unlisted(self) -> None:
        """After a successful commit of a complete `attachments` listing: drop texts of attachments gone from it."""
        dropped = self.cache.keep_only(self.listed)
        if dropped:
            logger.info(f"dropped the extracted text of {dropped} attachment versions no longer listed")


def _outcome(data: Mapping[str, Any], container: Container | None, extraction: Extraction) -> AttachmentStatus:
    if container is None:
        note = "its page or blog post is not in this sync"
    elif extraction.status == "ok" and not extraction.text:
        note = "no text in the file"
    else:
        note = ""
    size = data.get("file_size")
    return AttachmentStatus(
        id=str(data.get("id")),
        version=_version(data),
        title=str(data.get("title") or ""),
        container_id=child_container_id(data) or "",
        container_title=container.title if container is not None else "",
        media_type=str(data.get("media_type") or ""),
        file_size=size if isinstance(size, int) else None,
        status=extraction.status,
        detail=extraction.detail,
        note=note,
    )


def _delivered_size(file_reference: Any) -> int | None:
    if file_reference is None:
        return None
    size = file_reference.get("file_size_bytes") if isinstance(file_reference, Mapping) else None
    size = size if size is not None else getattr(file_reference, "file_size_bytes", None)
    return int(size) if isinstance(size, int) else None


def _remove(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)


def _version(data: Mapping[str, Any]) -> int:
    try:
        return int(data.get("version") or 0)
    except (TypeError, ValueError):
        return 0
