"""What a long-running front end (the MCP server) may ask of the index, with access fixed when it is built.

The access scope is a constructor argument and no method takes one: a caller of `search`, `get_page` or
`list_spaces` can narrow the answers (spaces, streams) but never widen them. The model loads once; every call
opens the live table once and reads one snapshot, so a sync committing meanwhile is seen whole or not at all.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyarrow.compute as pc

from destination_vectors.config import DestinationConfig
from destination_vectors.embedding.embedder import Embedder, load_embedder
from destination_vectors.read.access import Principal
from destination_vectors.read.grouping import GroupBy
from destination_vectors.read.search import Mode, Searcher, SearchError, Visibility, breadcrumb, visibility_filter
from destination_vectors.store.table import ChunkStore, Snapshot, quote

MAX_K = 50  # answers per call: an assistant's context window, not a bulk export


class ServiceError(ValueError):
    """A call that cannot be answered as asked; the message is for the caller (the assistant) to read."""


@dataclass(frozen=True)
class Access:
    """Who the server answers as. Set once at start from the command line; tool arguments never reach it."""

    visibility: Visibility = "public"
    principal: Principal | None = None  # set: what this person may read, instead of the visibility rule
    email: str | None = None  # set: the person with this e-mail address (resolved to `principal` at start)

    def describe(self) -> str:
        if self.principal is not None and self.principal.account_id is None:
            return f"what a person the index does not know ({self.email or 'no account'}) may read"
        if self.principal is not None:
            email = f" ({self.email})" if self.email else ""
            return f"what Confluence account {self.principal.account_id!r}{email} may read"
        return {
            "public": "public pages only",
            "internal": "internal pages only",
            "all": "public and internal pages",
        }[self.visibility]


class _SerialEmbedder:
    """One embedding at a time: concurrent calls share one model (2 cores gain nothing from parallel encodes)."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self.name = inner.name
        self.dimension = inner.dimension
        self.max_seq_length = inner.max_seq_length

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return self._inner.embed(texts)


class IndexService:
    def __init__(self, config: DestinationConfig, access: Access, embedder: Embedder | None = None) -> None:
        self.access = access
        self._store = ChunkStore.from_config(config)
        # backend auto follows the index, so queries are embedded like its chunks were
        if embedder is None:
            try:
                snapshot = self._store.snapshot()
            except Exception:  # a damaged index: the server starts and each answer explains (the web page's 503)
                snapshot = None
            embedder = load_embedder(config.embedding, indexed=snapshot.embedding_model if snapshot else None)
        self._embedder = _SerialEmbedder(embedder)
        self._searcher = Searcher(self._store, self._embedder, config.vector_index)
        if access.email is not None:  # the account behind the address, once; its groups are looked up per call
            try:
                found = self._searcher.principal_for(
                    as_email=access.email, groups=access.principal.groups if access.principal else ()
                )
            except SearchError as error:
                raise ServiceError(str(error)) from None
            self.access = replace(access, principal=found)
        self._snapshot: Snapshot | None = None

    def warm(self) -> None:
        """Load the model now (it loads lazily), so the first tool call does not pay for it."""
        self._embedder.embed(["warm up"])

    # -- tools ---------------------------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 5,
        spaces: Sequence[str] | None = None,
        labels: Sequence[str] | None = None,
        streams: Sequence[str] | None = None,
        group_by: GroupBy = "page",
        mode: Mode = "hybrid",
        under: str | None = None,
    ) -> list[dict[str, Any]]:
        """The answers as plain dicts (JSON for MCP)."""
        hits = self.search_hits(query, k, spaces, labels, streams, group_by, mode, under)
        return [hit.to_dict() for hit in hits]

    def search_hits(
        self,
        query: str,
        k: int = 5,
        spaces: Sequence[str] | None = None,
        labels: Sequence[str] | None = None,
        streams: Sequence[str] | None = None,
        group_by: GroupBy = "page",
        mode: Mode = "hybrid",
        under: str | None = None,
    ) -> list[Any]:
        """The answers as `PageHit` (or `Hit`) objects, for a front end that reads their fields (the web page):
        `to_dict` copies every nested field, about a tenth of a warm search."""
        if not query or not query.strip():
            raise ServiceError("the query is empty: ask a question or give a few keywords")
        if not 1 <= k <= MAX_K:
            raise ServiceError(f"k must be between 1 and {MAX_K}, got {k}")
        try:
            hits = self._searcher.search(
                query,
                k=k,
                mode=mode,
                visibility=self.access.visibility,
                principal=self.access.principal,
                spaces=list(spaces) if spaces else None,
                streams=list(streams) if streams else None,
                labels=list(labels) if labels else None,
                under=under or None,
                group_by=group_by,
            )
        except SearchError as error:
            raise ServiceError(str(error)) from None
        return hits

    def get_page(self, page_id: str) -> dict[str, Any]:
        """The page's indexed chunks in order. Pages outside the access scope are "not found", like missing ones."""
        page_id = (page_id or "").strip()
        if not page_id:
            raise ServiceError("page_id is empty")
        table = self._live()
        where = f"page_id = {quote(page_id)}"
        scope = visibility_filter(visibility=self.access.visibility, principal=self._principal())
        if scope:
            where = f"{where} AND {scope}"
        columns = ["stream", "page_id", "chunk_index", "title", "heading_path", "text", "space_key"]
        columns += ["visibility", "webui_url", "updated_at", "version", "metadata"]
        columns += [name for name in ("chunk_url", "ancestors") if name in table.schema.names]
        rows = table.to_lance().to_table(columns=columns, filter=where).to_pylist()
        if not rows:
            raise ServiceError(f"no page with id {page_id!r} in the index ({self.access.describe()} are served)")
        rows.sort(key=lambda row: (row["stream"], row["chunk_index"]))
        first = rows[0]
        sections = [
            {
                "heading_path": row["heading_path"],
                "chunk_url": row.get("chunk_url") or row["webui_url"],
                "text": without_prefix(row["text"], row["title"], row["heading_path"]),
            }
            for row in rows
            if row["stream"] == first["stream"]
        ]
        return {
            "page_id": first["page_id"],
            "stream": first["stream"],
            "title": first["title"],
            "breadcrumb": breadcrumb(first["title"], "", first["metadata"], first.get("ancestors") or ()),
            "space_key": first["space_key"],
            "visibility": first["visibility"],
            "webui_url": first["webui_url"],
            "updated_at": first["updated_at"],
            "version": first["version"],
            "sections": sections,
            "text": "\n\n".join(s["text"] for s in sections if s["text"]),
        }

    def list_spaces(self) -> list[dict[str, Any]]:
        """Spaces in the index within the access scope, with their page and chunk counts."""
        table = self._live()
        dataset = table.to_lance()
        rows = dataset.to_table(
            columns=["space_key", "page_id", "visibility"],
            filter=visibility_filter(visibility=self.access.visibility, principal=self._principal()),
        )
        if rows.num_rows == 0:
            return []
        counted = rows.group_by("space_key").aggregate([("page_id", "count_distinct"), ("page_id", "count")])
        spaces = []
        for space_key, pages, chunks in zip(
            counted.column("space_key").to_pylist(),
            counted.column("page_id_count_distinct").to_pylist(),
            counted.column("page_id_count").to_pylist(),
            strict=True,
        ):
            mine = rows.filter(pc.equal(rows.column("space_key"), space_key))
            spaces.append(
                {
                    "space_key": space_key,
                    "space_name": _space_name(dataset, space_key),
                    "pages": pages,
                    "chunks": chunks,
                    "visibility": sorted(set(mine.column("visibility").to_pylist())),
                }
            )
        return sorted(spaces, key=lambda space: space["space_key"])

    # -- for front ends that list what is indexed (the web page) ------------------------------------------------
    def scope_filter(self) -> str | None:
        """The SQL filter of this server's fixed access: every listing of rows applies it, as search does."""
        return visibility_filter(visibility=self.access.visibility, principal=self._principal())

    def snapshot(self) -> Snapshot:
        """The live table's newest version (one version check when nothing was committed since the last call)."""
        snapshot = self._snapshot = self._store.snapshot(self._snapshot)
        if snapshot is None:
            raise ServiceError(f"the index is empty: table {self._store.table_name!r} has no sync yet")
        return snapshot

    # -- helpers -------------------------------------------------------------------------------------------------
    def _principal(self) -> Principal | None:
        """The fixed person with the groups the memberships give them now (they change with each full re-pull)."""
        if self.access.principal is None:
            return None
        try:
            return self._searcher.resolved(self.access.principal)
        except SearchError as error:
            raise ServiceError(str(error)) from None

    def _live(self):
        table = self._store.open_live()
        if table is None:
            raise ServiceError(f"the index is empty: table {self._store.table_name!r} has no sync yet")
        return table


def _space_name(dataset, space_key: str) -> str:
    import json

    found = dataset.to_table(columns=["metadata"], filter=f"space_key = {quote(space_key)}", limit=1)
    try:
        return str(json.loads(found.column("metadata")[0].as_py() or "{}").get("space_name") or "")
    except (ValueError, IndexError, AttributeError):
        return ""


def without_prefix(text: str, title: str, heading_path: str) -> str:
    """A chunk's own words: its context line (`ancestors > title > headings`, added for ranking) is dropped."""
    context = " > ".join(part for part in (title.strip(), heading_path) if part)
    first, _, rest = text.partition("\n\n")
    if context and "\n" not in first and first.endswith(context):
        return rest
    return text
