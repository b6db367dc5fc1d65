"""Builders for Airbyte messages and catalogs, shared by the destination tests."""

from __future__ import annotations

import json
from typing import Any, Iterable

from airbyte_cdk.models import AirbyteMessage, ConfiguredAirbyteCatalog, ConfiguredAirbyteCatalogSerializer
from airbyte_cdk.models import AirbyteMessageSerializer


def page(page_id: str, title: str, body: str, *, space: str = "ENG", version: int = 1, **extra: Any) -> dict:
    return {
        "id": page_id, "title": title, "body_storage": body, "space_key": space, "space_name": space,
        "visibility": "internal" if space.startswith("~") else "public", "version": version,
        "webui_url": f"http://confluence.test/wiki/spaces/{space}/pages/{page_id}", "updated_at": "2026-11-01T00:00:00Z",
        **extra,
    }


def record(data: dict, stream: str = "pages") -> AirbyteMessage:
    return AirbyteMessageSerializer.load(
        {"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": 0}}
    )


def state(stream: str = "pages", record_count: int | None = None) -> AirbyteMessage:
    """The STATE a declarative source emits at the end of a full-refresh stream (with its record count if given)."""
    body: dict[str, Any] = {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream},
                                                       "stream_state": {"__ab_no_cursor_state_message": True}}}
    if record_count is not None:
        body["sourceStats"] = {"recordCount": float(record_count)}
    return AirbyteMessageSerializer.load({"type": "STATE", "state": body})


def catalog_dict(streams: Iterable[str] = ("pages",), mode: str = "overwrite") -> dict:
    return {"streams": [
        {
            "stream": {"name": name, "json_schema": {"type": "object"}, "supported_sync_modes": ["full_refresh"],
                       "source_defined_primary_key": [["id"]]},
            "sync_mode": "full_refresh", "destination_sync_mode": mode, "primary_key": [["id"]],
        }
        for name in streams
    ]}


def catalog(streams: Iterable[str] = ("pages",), mode: str = "overwrite") -> ConfiguredAirbyteCatalog:
    return ConfiguredAirbyteCatalogSerializer.load(catalog_dict(streams, mode))


def sync_lines(pages: Iterable[dict], stream: str = "pages", final_state: bool = True) -> str:
    messages = [record(p, stream) for p in pages] + ([state(stream)] if final_state else [])
    return "".join(json.dumps(AirbyteMessageSerializer.dump(m)) + "\n" for m in messages)
