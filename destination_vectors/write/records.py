"""Airbyte records -> source documents: the one place that knows which record field means what."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from destination_vectors.config import DestinationConfig
from destination_vectors.store.row import COLUMNS, Column, clean_text


class BadRecord(ValueError):
    """A record that cannot be indexed (no id, a body that is not text, ...). Carries the page id when known."""

    def __init__(self, page_id: str | None, reason: str) -> None:
        super().__init__(f"record {page_id or '<no id>'}: {reason}")
        self.page_id = page_id
        self.reason = reason


@dataclass(frozen=True)
class SourceDocument:
    stream: str
    page_id: str
    title: str
    body: str
    body_is_storage: bool
    visibility: str  # internal | public; anything else in the record became the configured default
    columns: dict[str, Any] = field(default_factory=dict)  # the row columns with a reader, from the record
    metadata: dict[str, Any] = field(default_factory=dict)
    user_names: dict[str, str] = field(default_factory=dict)  # mentioned user id -> display name (`user_names`)

    def column(self, name: str) -> Any:
        return self.columns[name]

    @property
    def version(self) -> int:
        return int(self.columns.get("version", 0))

    @property
    def content_hash(self) -> str:
        """Identifies what the page says (title + body): the ledger's measure of 'updated'."""
        digest = hashlib.sha256()
        for part in (self.title, "\x00", self.body):
            digest.update(part.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def metadata_json(self) -> str:
        return json.dumps(self.metadata, ensure_ascii=False, default=str, sort_keys=True)

    def identity(self) -> list[str]:
        """Every input this document's rows are made of, as text (the page hash's parts)."""
        return [
            self.stream,
            self.page_id,
            self.title,
            self.body,
            str(self.body_is_storage),
            self.visibility,
            json.dumps(self.columns, ensure_ascii=False, default=str, sort_keys=True),
            self.metadata_json(),
            json.dumps(self.user_names, ensure_ascii=False, sort_keys=True),  # a renamed user changes the text
        ]


def to_document(
    stream: str,
    data: Mapping[str, Any],
    config: DestinationConfig,
    primary_key: Sequence[Sequence[str]] | None,
    columns: Sequence[Column] = COLUMNS,
) -> SourceDocument:
    """The record as a document; the values of `columns` that have a reader are copied from the same-named field."""
    page_id = _primary_key_value(data, primary_key)
    if page_id is None:
        raise BadRecord(None, f"no primary key value (looked for {_key_names(primary_key)})")
    text_field, is_storage = config.mapping_for(stream)
    body = data.get(text_field)
    if body is None:
        body = ""
    if not isinstance(body, str):
        raise BadRecord(page_id, f"field {text_field!r} is {type(body).__name__}, not text")
    title = data.get(config.title_field)
    title = "" if title is None else clean_text(str(title))
    visibility = data.get("visibility")
    if visibility not in ("internal", "public"):
        visibility = config.default_visibility
    if data.get("restricted") is True:  # a restricted page is never public, whatever the record's visibility says
        visibility = "internal"
    own_column = {column.name for column in columns}  # metadata fields with a column of their own stay out of the JSON
    metadata = {name: data[name] for name in config.metadata_fields if name in data and name not in own_column}
    return SourceDocument(
        stream=stream,
        page_id=page_id,
        title=title,
        body=clean_text(body),
        body_is_storage=is_storage,
        visibility=visibility,
        columns={column.name: column.read(data.get(column.name)) for column in columns if column.read is not None},
        metadata=metadata,
        user_names=_user_names(data.get("user_names")),
    )


def _user_names(value: Any) -> dict[str, str]:
    """The record's id -> display name map; anything that is not text on both sides is left out."""
    if not isinstance(value, Mapping):
        return {}
    return {clean_text(k): clean_text(v) for k, v in value.items() if isinstance(k, str) and isinstance(v, str) and v}


def _key_names(primary_key: Sequence[Sequence[str]] | None) -> str:
    return "/".join(".".join(path) for path in primary_key) if primary_key else "id"


def _primary_key_value(data: Mapping[str, Any], primary_key: Sequence[Sequence[str]] | None) -> str | None:
    paths = [list(path) for path in primary_key] if primary_key else [["id"]]
    parts: list[str] = []
    for path in paths:
        value: Any = data
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if value is None or value == "":
            return None
        parts.append(str(value))
    return clean_text("|".join(parts))
