"""Airbyte records -> source documents: the one place that knows which record field means what."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from destination_vectors.config import DestinationConfig

# Fields with a column of their own in the chunk table; other metadata fields go to the JSON `metadata` column.
COLUMN_FIELDS = ("space_key", "visibility", "webui_url", "updated_at", "version")


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
    space_key: str
    visibility: str
    webui_url: str
    updated_at: str
    version: int
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """Identifies what the page says (title + body): the ledger's measure of 'updated'."""
        digest = hashlib.sha256()
        for part in (self.title, "\x00", self.body):
            digest.update(part.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def metadata_json(self) -> str:
        return json.dumps(self.metadata, ensure_ascii=False, default=str, sort_keys=True)


def to_document(
    stream: str, data: Mapping[str, Any], config: DestinationConfig, primary_key: Sequence[Sequence[str]] | None
) -> SourceDocument:
    page_id = _primary_key_value(data, primary_key)
    if page_id is None:
        raise BadRecord(None, f"no primary key value (looked for {_key_names(primary_key)})")
    body = data.get(config.text_field)
    if body is None:
        body = ""
    if not isinstance(body, str):
        raise BadRecord(page_id, f"field {config.text_field!r} is {type(body).__name__}, not text")
    title = data.get(config.title_field)
    title = "" if title is None else _clean(str(title))
    visibility = data.get("visibility")
    if visibility not in ("internal", "public"):
        visibility = config.default_visibility
    metadata = {name: data[name] for name in config.metadata_fields if name in data and name not in COLUMN_FIELDS}
    return SourceDocument(
        stream=stream,
        page_id=page_id,
        title=title,
        body=_clean(body),
        body_is_storage=config.text_is_storage(),
        space_key=_text(data.get("space_key")),
        visibility=visibility,
        webui_url=_text(data.get("webui_url")),
        updated_at=_text(data.get("updated_at")),
        version=_int(data.get("version")),
        metadata=metadata,
    )


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
    return _clean("|".join(parts))


def _clean(text: str) -> str:
    """Lone surrogates (invalid UTF-16 halves from broken JSON) cannot be stored or tokenized: replace them."""
    return text.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(text) else text


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _text(value: Any) -> str:
    return "" if value is None else _clean(str(value))


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
