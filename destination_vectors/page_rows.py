"""One record -> the rows of its page: document -> sections -> chunks -> rows, plus the page hash and the carry-over
decision. Pure: no LanceDB, no model, no I/O; what the live snapshot holds comes in as a function.

The writer (`sync.py`) only batches these rows, embeds them, stages, commits and records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from destination_vectors.chunks import Chunk, chunk_sections
from destination_vectors.config import DestinationConfig
from destination_vectors.documents import Section, storage_to_sections
from destination_vectors.model import Tokenizer
from destination_vectors.records import SourceDocument, to_document
from destination_vectors.row import COLUMNS, Column
from destination_vectors.vectors import chunk_content_hash

# Part of every page hash: bump it when documents/ or chunks.py change what they produce, so that unchanged pages
# are converted and chunked again instead of carried over with chunks of the old kind.
PIPELINE_VERSION = "2026.11.2"  # .2: macro policy, mentions by name, includes, headings in containers, escaped pipes

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
    ) -> None:
        self.config = config
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.model_name = model_name
        self.carry_check = carry_check
        self.columns = columns

    def __call__(self, stream: str, data: Mapping[str, Any], primary_key: Sequence[Sequence[str]] | None) -> PageRows:
        """Raises `records.BadRecord` (or any conversion error) for a record that cannot be indexed."""
        document = to_document(stream, data, self.config, primary_key, self.columns)
        page_hash = self.page_hash(document)
        carried = self.carry_check(stream, document.page_id, page_hash)
        if carried:
            return PageRows(document, page_hash, carried=carried)
        return PageRows(
            document,
            page_hash,
            rows=build_rows(document, self.chunk(document), page_hash, self.model_name, self.columns),
        )

    def page_hash(self, document: SourceDocument) -> str:
        """Everything a page's rows are made of: equal hashes mean equal rows."""
        digest = hashlib.sha256()
        settings = (PIPELINE_VERSION, self.model_name, str(self.max_tokens), str(self.config.chunking.overlap_tokens))
        for part in (*settings, *document.identity()):
            digest.update(part.encode("utf-8", "replace") + b"\x00")
        return digest.hexdigest()

    def chunk(self, document: SourceDocument) -> list[Chunk]:
        sections = storage_to_sections(document.body) if document.body_is_storage else [Section((), document.body)]
        return chunk_sections(
            document.title, sections, self.tokenizer, self.max_tokens, self.config.chunking.overlap_tokens
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
        computed = {
            "chunk_id": f"{document.stream}:{document.page_id}:{chunk.index}",
            "stream": document.stream,
            "page_id": document.page_id,
            "chunk_index": chunk.index,
            "title": document.title,
            "heading_path": " > ".join(chunk.heading_path),
            "text": chunk.text,
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
