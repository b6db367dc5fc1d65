"""`pages` records of a stand-in site, in the source's output shape, for destination benchmarks and tests."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from testkit.confluence_stand_in import Site


def site_records(site: Site, base: str = "http://127.0.0.1:8090/wiki") -> list[dict]:
    spaces = {space.key: space for space in site.spaces}
    records = []
    for page in site.pages:
        space = spaces[page.space_key]
        webui = f"/spaces/{space.key}/pages/{page.id}"
        records.append(
            {
                "id": page.id,
                "title": page.title,
                "status": page.status,
                "space_id": space.id,
                "space_key": space.key,
                "space_name": space.name,
                "space_type": space.type,
                "visibility": "internal" if space.key.startswith("~") else "public",
                "parent_id": page.parent_id,
                "ancestors": [],
                "author_id": page.author_id,
                "created_at": page.created_at,
                "updated_at": page.updated_at,
                "version": page.version,
                "body_storage": page.body,
                "webui": webui,
                "webui_url": base + webui,
            }
        )
    return records


def edit_fraction(records: list[dict], fraction: float, seed: int = 1) -> list[dict]:
    """A copy where every 1/fraction-th page gets a new paragraph and version (deterministic)."""
    step = max(1, round(1 / fraction)) if fraction > 0 else 0
    edited = []
    for index, record in enumerate(records):
        if step and index % step == seed % step:
            record = {
                **record,
                "body_storage": record["body_storage"] + f"<p>Edited paragraph {seed}.</p>",
                "version": record["version"] + 1,
            }
        edited.append(record)
    return edited


def write_messages(records: Iterable[dict], path: Path, stream: str = "pages") -> Path:
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps({"type": "RECORD", "record": {"stream": stream, "data": record, "emitted_at": 0}}))
            out.write("\n")
        out.write(
            json.dumps(
                {
                    "type": "STATE",
                    "state": {
                        "type": "STREAM",
                        "stream": {
                            "stream_descriptor": {"name": stream},
                            "stream_state": {"__ab_no_cursor_state_message": True},
                        },
                    },
                }
            )
            + "\n"
        )
    return path


def catalog_dict(streams: Iterable[str] = ("pages",), mode: str = "overwrite", **refresh: int) -> dict:
    """A configured catalog of full-refresh streams keyed on `id`, in the destination sync mode given; `refresh` adds
    Airbyte's refresh fields (`generation_id`, `minimum_generation_id`, `sync_id`) to every stream."""
    return {
        "streams": [
            {
                "stream": {
                    "name": name,
                    "json_schema": {"type": "object"},
                    "supported_sync_modes": ["full_refresh"],
                    "source_defined_primary_key": [["id"]],
                },
                "sync_mode": "full_refresh",
                "destination_sync_mode": mode,
                "primary_key": [["id"]],
                **refresh,
            }
            for name in streams
        ]
    }


def catalog_file(path: Path, stream: str = "pages", mode: str = "overwrite") -> Path:
    path.write_text(json.dumps(catalog_dict([stream], mode)))
    return path


__all__ = ["site_records", "edit_fraction", "write_messages", "catalog_dict", "catalog_file"]
