"""Airbyte messages and catalogs as CDK models (page records, STATEs, configured catalogs), for in-process writes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteMessageSerializer,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
)

from testkit.records import catalog_dict


def page(page_id: str, title: str, body: str, *, space: str = "ENG", version: int = 1, **extra: Any) -> dict:
    return {
        "id": page_id,
        "title": title,
        "body_storage": body,
        "space_key": space,
        "space_name": space,
        "visibility": "internal" if space.startswith("~") else "public",
        "version": version,
        "webui_url": f"http://confluence.test/wiki/spaces/{space}/pages/{page_id}",
        "updated_at": "2026-11-01T00:00:00Z",
        **extra,
    }


def record(data: dict, stream: str = "pages") -> AirbyteMessage:
    return AirbyteMessageSerializer.load(
        {"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": 0}}
    )


def state(stream: str = "pages", record_count: int | None = None) -> AirbyteMessage:
    """The STATE a declarative source emits at the end of a full-refresh stream (with its record count if given)."""
    body: dict[str, Any] = {
        "type": "STREAM",
        "stream": {"stream_descriptor": {"name": stream}, "stream_state": {"__ab_no_cursor_state_message": True}},
    }
    if record_count is not None:
        body["sourceStats"] = {"recordCount": float(record_count)}
    return AirbyteMessageSerializer.load({"type": "STATE", "state": body})


def catalog(streams: Iterable[str] = ("pages",), mode: str = "overwrite", **refresh: int) -> ConfiguredAirbyteCatalog:
    return ConfiguredAirbyteCatalogSerializer.load(catalog_dict(streams, mode, **refresh))
