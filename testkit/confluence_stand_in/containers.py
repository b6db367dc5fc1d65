"""Cloud's non-page containers in the page tree: folders, whiteboards, databases and embeds (REST v2 `parentType`).

A page (or a container) may sit under one; `GET /wiki/api/v2/{folders,whiteboards,databases,embeds}/{id}` answers
FolderSingle / WhiteboardSingle / DatabaseSingle / SmartLinkSingle of openapi-v2.v3.json (with `_links.base`). Read restrictions of a container are kept with the pages' (`SiteAccess.restriction`,
keyed by content id) and served by v1 `/content/{id}/restriction/byOperation/read`, which answers for any content id.

v1 `ancestors` (the CQL listing's expansion) on real sites: Atlassian's sites list a folder as an ancestor entry of
`type: folder`; at least one real site's answers leave folders out altogether (issue 17). `Site.v1_container_ancestors`
selects: True lists containers (with their own `type`), False leaves them out."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .common import ApiResult, tiny_code, v2_error

CONTAINER_TYPES = ("folder", "whiteboard", "database", "embed")
ROUTE_TYPES = {"folders": "folder", "whiteboards": "whiteboard", "databases": "database", "embeds": "embed"}
DEFAULT_TIMESTAMP = "2024-01-15T09:00:00.000Z"


@dataclass(frozen=True, kw_only=True)
class Container:
    """A folder, whiteboard, database or embed in a space's page tree; `parent_id`: a page or another container."""

    id: str
    space_key: str
    type: str
    title: str
    parent_id: str | None = None
    status: str = "current"
    author_id: str = "557058:0a1b2c3d-site-admin"
    created_at: str = DEFAULT_TIMESTAMP

    def __post_init__(self) -> None:
        if not self.id.isdigit():
            raise ValueError(f"{self.type} {self.title!r}: id must be numeric, got {self.id!r}")
        if self.type not in CONTAINER_TYPES:
            raise ValueError(f"container {self.id}: type must be one of {CONTAINER_TYPES}, got {self.type!r}")


def handle_v2_containers(site: object, subpath: str, root_url: str) -> ApiResult | None:
    """`/folders/{id}`, `/whiteboards/{id}`, `/databases/{id}`, `/embeds/{id}`; None: not
    ours. A container of another type than the route's is not found there (as on Cloud: ids are per type)."""
    match = re.fullmatch(r"/(folders|whiteboards|databases|embeds)/([^/]+)", subpath)
    if match is None:
        return None
    kind = ROUTE_TYPES[match.group(1)]
    container = site.container_by_id(match.group(2))  # type: ignore[attr-defined]
    if container is None or container.type != kind or container.status not in ("current", "archived"):
        return v2_error(404, "NOT_FOUND", f"{kind.capitalize()} not found")
    return ApiResult(200, container_v2(site, container, f"{root_url}/wiki"))


def container_v2(site: object, container: Container, base: str) -> dict[str, object]:
    body: dict[str, object] = {
        "id": container.id,
        "type": container.type,
        "status": container.status,
        "title": container.title,
    }
    if container.parent_id is not None:
        body["parentId"] = container.parent_id
        body["parentType"] = site.parent_type(container.parent_id)  # type: ignore[attr-defined]
    body.update(
        {
            "position": 0,
            "authorId": container.author_id,
            "ownerId": container.author_id,
            "createdAt": container.created_at,
            "version": {
                "createdAt": container.created_at,
                "message": "",
                "number": 1,
                "minorEdit": False,
                "authorId": container.author_id,
            },
            "_links": {"webui": f"/spaces/{container.space_key}/{container.type}/{container.id}", "base": base},
        }
    )
    if container.type == "embed":
        body["embedUrl"] = f"https://example.com/embedded/{tiny_code(container.id)}"
    return body
