"""Blog posts, comments, attachments and labels: their record shapers, the label scope and the attachment verdict."""

import threading
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.types import Config, StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_confluence.component_parts.access_fields import SHARED_ACCESS
from source_confluence.component_parts.common import (
    DEFAULT_TIMEOUT_SECONDS,
    ConfluenceTransformation,
    VersionedShaper,
    labels_wanted,
    optional_text,
)
from source_confluence.component_parts.http import (
    RETRYABLE_STATUSES,
    RetryAfterCappedBackoff,
    authorize,
    response_body_problem,
)
from source_confluence.component_parts.paging import next_listing_url
from source_confluence.component_parts.records import MaxPagesFilter, absolute_url, link_base
from source_confluence.component_parts.stats import SYNC_STATS

ATTACHMENT_SUFFIXES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".json": "application/json",
}
"""A file name's suffix decides when Confluence reports a generic media type (application/octet-stream)."""
DEFAULT_ATTACHMENT_MEDIA_TYPES = sorted(set(ATTACHMENT_SUFFIXES.values()))
DEFAULT_ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
_GENERIC_MEDIA_TYPES = {"", "application/octet-stream", "binary/octet-stream"}


def labels_admit(labels: Any, config: Mapping[str, Any]) -> bool:
    """include_labels: at least one of them; exclude_labels: none of them. Names compare case-insensitively."""
    names = {str(label).lower() for label in labels or []}
    include = {str(label).lower() for label in config.get("include_labels") or []}
    exclude = {str(label).lower() for label in config.get("exclude_labels") or []}
    return (not include or bool(names & include)) and not (names & exclude)


def attachment_verdict(media_type: Any, title: Any, size: Any, config: Mapping[str, Any]) -> str | None:
    """`unsupported_type` or `too_large` from the listing alone (such files are never downloaded), else None."""
    allowed = {str(t).lower() for t in config.get("attachment_media_types") or DEFAULT_ATTACHMENT_MEDIA_TYPES}
    reported = str(media_type or "").split(";", 1)[0].strip().lower()
    suffix = "." + str(title or "").rsplit(".", 1)[-1].lower() if "." in str(title or "") else ""
    effective = ATTACHMENT_SUFFIXES.get(suffix, "") if reported in _GENERIC_MEDIA_TYPES else reported
    if effective not in allowed:
        return "unsupported_type"
    limit = int(config.get("attachment_max_bytes") or DEFAULT_ATTACHMENT_MAX_BYTES)
    if isinstance(size, int) and size > limit:
        return "too_large"
    return None


def _cursor_time(value: Any) -> str | None:
    """ISO 8601 in one fixed form (microseconds, Z), so cursor values compare as strings and equal the state."""
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _v2_container(item: Mapping[str, Any]) -> tuple[str | None, str]:
    on_page = item.get("pageId") is not None
    return optional_text(item.get("pageId") or item.get("blogPostId")), "page" if on_page else "blogpost"


def _v1_container(item: Mapping[str, Any]) -> tuple[str | None, str | None]:
    container = item.get("container") or {}
    kind = container.get("type")
    return optional_text(container.get("id")), ("blogpost" if kind == "blogpost" else "page" if kind else None)


@dataclass
class CommentRecordShaper(VersionedShaper):
    """A footer or inline comment of REST v2 (the site-wide lists; `kind` from the partition) or REST v1 (CQL
    search with container, ancestors and extensions expanded) -> the `comments` record of docs/CONTRACTS.md."""

    def shape(self, record: MutableMapping[str, Any], config: Config, stream_slice: StreamSlice | None) -> None:
        base = link_base(record, config)
        version = record.get("version") or {}
        body = ((record.get("body") or {}).get("storage") or {}).get("value")
        shaped: dict[str, Any] = {"id": str(record["id"]), "title": record.get("title"), "status": record.get("status")}
        if self.api_version == "v2":
            partition: Mapping[str, Any] = getattr(stream_slice, "partition", None) or {}
            container_id, container_type = _v2_container(record)
            properties = record.get("properties") or {}
            shaped.update(
                {
                    "container_id": container_id,
                    "container_type": container_type,
                    "kind": partition.get("kind") or "footer",
                    "parent_comment_id": optional_text(record.get("parentCommentId")),
                    "author_id": version.get("authorId"),
                    "created_at": version.get("createdAt") if version.get("number") == 1 else None,
                    "resolved": (record.get("resolutionStatus") == "resolved")
                    if "resolutionStatus" in record
                    else None,
                    "highlighted_text": properties.get("inlineOriginalSelection")
                    if isinstance(properties, Mapping)
                    else None,
                }
            )
        else:
            container_id, container_type = _v1_container(record)
            extensions = record.get("extensions") or {}
            ancestors = [a for a in record.get("ancestors") or [] if a.get("type") == "comment"]
            creator = (record.get("history") or {}).get("createdBy") or {}
            kind = "inline" if extensions.get("location") == "inline" else "footer"
            shaped.update(
                {
                    "container_id": container_id,
                    "container_type": container_type,
                    "kind": kind,
                    "parent_comment_id": optional_text(ancestors[-1].get("id")) if ancestors else None,
                    "author_id": creator.get("accountId") or creator.get("userKey") or creator.get("username"),
                    "author_name": creator.get("displayName"),  # v1 names the creator; v2 lists give only an id
                    "created_at": (record.get("history") or {}).get("createdDate"),
                    "resolved": ((extensions.get("resolution") or {}).get("status") == "resolved")
                    if kind == "inline"
                    else None,
                    "highlighted_text": (extensions.get("inlineProperties") or {}).get("originalSelection"),
                    "space_key": (record.get("space") or {}).get("key"),
                }
            )
        shaped["updated_at"] = version.get("createdAt") or version.get("when")
        shaped["version"] = version.get("number")
        shaped["body_storage"] = body if isinstance(body, str) else ""
        shaped["webui_url"] = absolute_url(base, (record.get("_links") or {}).get("webui"))
        record.clear()
        record.update(shaped)


@dataclass
class AttachmentRecordShaper(VersionedShaper):
    """An attachment of REST v2 (`/attachments`) or REST v1 (CQL search) -> the `attachments` record: metadata,
    absolute download and web links, and `extraction` when the listing alone rules the file out."""

    def shape(self, record: MutableMapping[str, Any], config: Config, stream_slice: StreamSlice | None) -> None:
        base = link_base(record, config)
        version = record.get("version") or {}
        links = record.get("_links") or {}
        if self.api_version == "v2":
            container_id, container_type = _v2_container(record)
            shaped = {
                "container_id": container_id,
                "container_type": container_type,
                "media_type": record.get("mediaType"),
                "file_size": record.get("fileSize"),
                "created_at": record.get("createdAt"),
                "comment": record.get("comment"),
                "download": record.get("downloadLink") or links.get("download"),
                "webui": record.get("webuiLink") or links.get("webui"),
            }
        else:
            container_id, container_type = _v1_container(record)
            extensions = record.get("extensions") or {}
            shaped = {
                "container_id": container_id,
                "container_type": container_type,
                "media_type": extensions.get("mediaType") or (record.get("metadata") or {}).get("mediaType"),
                "file_size": extensions.get("fileSize"),
                "created_at": (record.get("history") or {}).get("createdDate"),
                "comment": extensions.get("comment"),
                "download": links.get("download"),
                "webui": links.get("webui"),
                "space_key": (record.get("space") or {}).get("key"),
            }
        shaped.update({"id": str(record["id"]), "title": record.get("title"), "status": record.get("status")})
        shaped["version"] = version.get("number")
        shaped["updated_at"] = version.get("createdAt") or version.get("when")
        shaped["content_cursor"] = _cursor_time(shaped["updated_at"])
        shaped["download_url"] = absolute_url(base, shaped.pop("download"))
        shaped["webui_url"] = absolute_url(base, shaped.pop("webui"))
        size = shaped["file_size"]
        shaped["file_size"] = int(size) if isinstance(size, int | float | str) and str(size).isdigit() else None
        shaped["extraction"] = attachment_verdict(shaped["media_type"], shaped["title"], shaped["file_size"], config)
        record.clear()
        record.update(shaped)


@dataclass
class LabelsFromApi(ConfluenceTransformation):
    """Adds `labels` (names) to a page or blog post of REST v2, only when labels are wanted (read_labels,
    include_labels or exclude_labels). They come in bulk from the space's v1 CQL listing of the read's shared
    `AccessReader` (`expand=metadata.labels`; the listing access reads anyway, else one request per 100 items).
    One request to `/{pages|blogposts}/{id}/labels` only for an item that listing lacks (created after it, not yet in
    the search index) or whose label array may hold more than it lists. A listing or a label read that fails after
    retries fails the read (transient error): a page is never scoped by labels it could not read. REST v1 records
    carry labels from `expand=metadata.labels` instead (PageRecordShaper)."""

    content_path: str = "pages"
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def shape(self, record: MutableMapping[str, Any], config: Config, stream_slice: StreamSlice | None) -> None:
        if not labels_wanted(config) or "labels" in record:
            return
        if record.get("space_key"):
            listing = SHARED_ACCESS.reader(config).labels_listing(str(record["space_key"]))
            if listing.listing_failures:
                message = f"Could not read the labels of space {record['space_key']}: {listing.listing_failures[0]}."
                raise AirbyteTracedException(
                    message=message, internal_message=message, failure_type=FailureType.transient_error
                )
            listed = listing.labels_of.get(str(record["id"]))
            if listed is not None:
                record["labels"] = list(listed)
                return
        url = f"{config['normalised_api_root']}/{self.content_path}/{record['id']}/labels?limit=250"
        names: list[str] = []
        while url:
            body = self._get(url, config)
            names += [str(label.get("name")) for label in body.get("results") or [] if label.get("name")]
            url = next_listing_url(body, "v2", config, f"labels of {self.content_path} {record['id']}") or ""
        record["labels"] = names

    def _get(self, url: str, config: Mapping[str, Any]) -> Mapping[str, Any]:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers.update(dict(config.get("normalised_custom_headers") or {}))
            authorize(session, config)
        timeout = float(config.get("request_timeout_seconds") or DEFAULT_TIMEOUT_SECONDS)
        backoff = RetryAfterCappedBackoff(config=config)
        attempts = int(config.get("max_retries", 5)) + 1
        for attempt in range(1, attempts + 1):
            outcome: Any
            try:
                outcome = session.get(url, timeout=timeout)
                SYNC_STATS.count(requests=1)
                if outcome.ok and response_body_problem(outcome) is None:
                    return outcome.json()
                if outcome.status_code not in RETRYABLE_STATUSES and outcome.ok is False:
                    break
            except requests.RequestException as error:
                outcome = error
            if attempt < attempts:
                time.sleep(backoff.delay_seconds(outcome, attempt))
        message = f"Could not read the labels at {urlsplit(url).path} after {attempts} attempts."
        raise AirbyteTracedException(
            message=message, internal_message=message, failure_type=FailureType.transient_error
        )


@dataclass
class LabelScopeFilter(MaxPagesFilter):
    """Drops pages and blog posts outside include_labels / exclude_labels (the selector transforms before filtering,
    so `labels` is there), then filters as `MaxPagesFilter` does (`counts_pages: false` for blog posts)."""

    def admits(self, record: Mapping[str, Any]) -> bool:
        return labels_admit(record.get("labels"), self.config)
