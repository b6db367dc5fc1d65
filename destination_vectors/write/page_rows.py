"""One record -> the rows of its page: document -> sections -> chunks -> rows, plus the page hash and the carry-over
decision. Pure: no LanceDB, no model, no I/O; what the live snapshot holds comes in as a function.

The writer (`sync.py`) only batches these rows, embeds them, stages, commits and records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from destination_vectors.config import DestinationConfig
from destination_vectors.embedding.model import Tokenizer
from destination_vectors.store.row import COLUMNS, Column
from destination_vectors.text.chunks import Chunk, chunk_sections
from destination_vectors.text.documents import PageContext, Section, include_targets, storage_to_sections
from destination_vectors.text.documents.anchors import section_url
from destination_vectors.text.exact import identifier_column
from destination_vectors.write.includes import IncludeIndex
from destination_vectors.write.records import SourceDocument, to_document
from destination_vectors.write.vectors import chunk_content_hash

# Part of every page hash: bump it when documents/ or chunks.py change what they produce, so that unchanged pages
# are converted and chunked again instead of carried over with chunks of the old kind.
# .2: macro policy, mentions, includes, headings in containers; .3: breadcrumb prefix; .4: images add no words (caption
# kept), no kind label on info/tip/panel/success/expand panels
PIPELINE_VERSION = "2026.11.4"

# (stream, page_id, page_hash) -> how many rows of that page the live snapshot holds with that hash (0: none)
CarryCheck = Callable[[str, str, str], int]


def _nothing_carried(stream: str, page_id: str, page_hash: str) -> int:
    return 0


@dataclass(frozen=True)
class PageRows:
    """What one record becomes: either `carried` > 0 (keep the live snapshot's rows of this page as they are) or
    new `rows` (every column but the vector) to embed and stage."""

    document: SourceDocument
    page_hash: str
    carried: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    deferred: bool = False  # includes other pages: build it again with `resolve_includes=True` after the last record

    @property
    def chunks(self) -> int:
        return self.carried or len(self.rows)


class PageRowsBuilder:
    """Turns records into `PageRows` for one sync's settings (model, chunk sizes, pipeline version)."""

    def __init__(
        self,
        config: DestinationConfig,
        tokenizer: Tokenizer,
        max_tokens: int,
        model_name: str,
        carry_check: CarryCheck = _nothing_carried,
        columns: Sequence[Column] = COLUMNS,
        includes: IncludeIndex | None = None,
    ) -> None:
        self.config = config
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.model_name = model_name
        self.carry_check = carry_check
        self.columns = columns
        self.includes = includes  # the sync's pages by space and title, for include macros (includes.py)

    def __call__(
        self,
        stream: str,
        data: Mapping[str, Any],
        primary_key: Sequence[Sequence[str]] | None,
        resolve_includes: bool = False,
    ) -> PageRows:
        """Raises `records.BadRecord` (or any conversion error) for a record that cannot be indexed.

        With an `includes` index, every storage page is remembered in it, and a page that includes others comes back
        `deferred` (no rows) unless `resolve_includes`: the writer builds it again once every page was seen."""
        document = to_document(stream, data, self.config, primary_key, self.columns)
        space_key = str(document.columns.get("space_key") or "")
        targets = include_targets(document.body, space_key) if document.body_is_storage else set()
        if self.includes is not None and document.body_is_storage and not resolve_includes:
            self.includes.add(space_key, document.title, document.body)
            if targets:
                return PageRows(document, "", deferred=True)
        resolved = self.includes if resolve_includes else None
        page_hash = self.page_hash(document, resolved.included_hash(targets) if resolved is not None else "")
        carried = self.carry_check(stream, document.page_id, page_hash)
        if carried:
            return PageRows(document, page_hash, carried=carried)
        return PageRows(
            document,
            page_hash,
            rows=build_rows(document, self.chunk(document, resolved), page_hash, self.model_name, self.columns),
        )

    def page_hash(self, document: SourceDocument, included: str = "") -> str:
        """Everything a page's rows are made of: equal hashes mean equal rows (`included`: what its includes read)."""
        digest = hashlib.sha256()
        settings = (PIPELINE_VERSION, self.model_name, str(self.max_tokens), str(self.config.chunking.overlap_tokens))
        for part in (*settings, *document.identity(), included):
            digest.update(part.encode("utf-8", "replace") + b"\x00")
        return digest.hexdigest()

    def chunk(self, document: SourceDocument, includes: IncludeIndex | None = None) -> list[Chunk]:
        space_key = str(document.columns.get("space_key") or "")
        if document.body_is_storage:
            context = (
                includes.context(space_key, document.user_names)
                if includes is not None
                else PageContext(space_key=space_key, user_names=document.user_names)
            )
            sections = storage_to_sections(document.body, context)
        else:
            sections = [Section((), document.body)]
        return chunk_sections(
            document.title,
            sections,
            self.tokenizer,
            self.max_tokens,
            self.config.chunking.overlap_tokens,
            breadcrumb=document.columns.get("ancestors") or (),
        )


def build_rows(
    document: SourceDocument, chunks: Sequence[Chunk], page_hash: str, model: str, columns: Sequence[Column] = COLUMNS
) -> list[dict[str, Any]]:
    """The chunk rows of one page, in `columns` order, without the vector.

    Columns read from the record come from the document as they are; the others are computed here.
    """
    names = [column.name for column in columns]
    page = {column.name: document.columns[column.name] for column in columns if column.read is not None}
    metadata = document.metadata_json()
    rows = []
    for chunk in chunks:
        if not chunk.text.strip():  # no title, no words: never an empty chunk (the writer skips a record without rows)
            continue
        computed = {
            "chunk_id": f"{document.stream}:{document.page_id}:{chunk.index}",
            "stream": document.stream,
            "page_id": document.page_id,
            "chunk_index": chunk.index,
            "title": document.title,
            "heading_path": " > ".join(chunk.heading_path),
            "chunk_url": section_url(str(document.columns.get("webui_url") or ""), document.title, chunk.heading_path),
            "text": chunk.text,
            "identifiers": identifier_column(chunk.text),
            "visibility": document.visibility,
            "content_hash": chunk_content_hash(model, chunk.text),
            "page_hash": page_hash,
            "metadata": metadata,
            "embedding_model": model,
        }
        values = {**page, **computed}
        row = {name: values[name] for name in names if name != "row_hash"}
        row["row_hash"] = row_hash(row)
        rows.append({name: row[name] for name in names})
    return rows


def row_hash(row: Mapping[str, Any]) -> str:
    """Equal when every stored field is equal: the swap rewrites only rows whose hash changed."""
    digest = hashlib.sha256()
    for key in sorted(row):
        if key != "row_hash":
            digest.update(f"{key}={row[key]}\x00".encode("utf-8", "replace"))
    return digest.hexdigest()
