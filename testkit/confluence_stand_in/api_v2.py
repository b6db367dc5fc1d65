"""Confluence Cloud REST v2 (`/wiki/api/v2/...`): spaces and pages with opaque cursor paging.

Shapes follow Atlassian's openapi-v2.v3.json (SpaceBulk/SpaceSingle, PageBulk/PageSingle, MultiEntityResult).
Where the document types a field as a non-nullable string (a root page's `parentId`, `parentType`), the stand-in
leaves the field out rather than sending null, so every response validates against the published schema.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar
from urllib.parse import urlencode

from .common import (
    ApiResult,
    BadRequest,
    Query,
    decode_cursor,
    encode_cursor,
    int_param,
    query_value,
    query_values,
    tiny_code,
    title_slug,
    v2_error,
)
from .containers import handle_v2_containers
from .site import Page, Site, Space

PREFIX = "/wiki/api/v2"
MAX_LIMIT = 250
DEFAULT_LIMIT = 25
DEFAULT_PAGE_STATUSES = ("current", "archived")
Item = TypeVar("Item", Page, Space)


def handle_v2(site: Site, subpath: str, query: Query, root_url: str) -> ApiResult:
    """Route a GET under /wiki/api/v2 (`subpath` starts with '/'); `root_url` is the site root, no trailing slash."""
    try:
        return _route(site, subpath, query, root_url)
    except BadRequest as error:
        return v2_error(400, "INVALID_REQUEST_PARAMETER", str(error))


def _route(site: Site, subpath: str, query: Query, root_url: str) -> ApiResult:
    base = f"{root_url}/wiki"
    if subpath == "/spaces":
        return _space_list(site, query, base)
    if subpath == "/pages":
        return _page_list(site, subpath, query, base, _pages_filter(site, query, site.all_pages()))
    if match := re.fullmatch(r"/spaces/([^/]+)", subpath):
        space = _space_by_numeric_id(site, match.group(1))
        if space is None:
            return v2_error(404, "NOT_FOUND", "Space not found")
        body = space_v2(site, space, query)
        body["_links"]["base"] = base  # type: ignore[index]
        return ApiResult(200, body)
    if match := re.fullmatch(r"/spaces/([^/]+)/pages", subpath):
        space = _space_by_numeric_id(site, match.group(1))
        if space is None:
            return v2_error(404, "NOT_FOUND", "Space not found")
        depth = query_value(query, "depth", "all")
        if depth not in ("all", "root"):
            raise BadRequest("'depth' must be one of [all, root]")
        pages = [p for p in site.pages_in(space.key) if depth == "all" or p.parent_id is None]
        return _page_list(site, subpath, query, base, _pages_filter(site, query, pages, by_space=False))
    if (container := handle_v2_containers(site, subpath, root_url)) is not None:
        return container
    if match := re.fullmatch(r"/pages/([^/]+)", subpath):
        page = site.page(match.group(1)) if match.group(1).isdigit() else None
        allowed = query_values(query, "status") or ["current", "archived", "trashed"]
        if page is None or page.status not in allowed:
            return v2_error(404, "NOT_FOUND", "Page not found")
        body = page_v2(site, page, _body_format(query))
        body["_links"]["base"] = base  # type: ignore[index]
        return ApiResult(200, body)
    return v2_error(404, "NOT_FOUND", f"No endpoint at {PREFIX}{subpath}")


def _space_list(site: Site, query: Query, base: str) -> ApiResult:
    keys = set(query_values(query, "keys"))
    ids = set(query_values(query, "ids"))
    types = set(query_values(query, "type"))
    statuses = set(query_values(query, "status"))
    spaces = [
        s
        for s in site.spaces
        if (not keys or s.key in keys)
        and (not ids or s.id in ids)
        and (not types or s.type in types)
        and (not statuses or "current" in statuses)
    ]
    chunk, next_link = _paginate(spaces, "/spaces", query)
    return _list_result([space_v2(site, s, query) for s in chunk], next_link, base)


def _page_list(site: Site, subpath: str, query: Query, base: str, pages: Sequence[Page]) -> ApiResult:
    body_format = _body_format(query)
    chunk, next_link = _paginate(list(pages), subpath, query)
    return _list_result([page_v2(site, p, body_format) for p in chunk], next_link, base)


def _pages_filter(site: Site, query: Query, pages: Sequence[Page], by_space: bool = True) -> list[Page]:
    space_ids = query_values(query, "space-id") if by_space else []
    for space_id in space_ids:
        if not space_id.isdigit():
            raise BadRequest("'space-id' must be numeric")
    space_keys = {s.key for s in site.spaces if s.id in set(space_ids)}
    page_ids = set(query_values(query, "id"))
    statuses = set(query_values(query, "status")) or set(DEFAULT_PAGE_STATUSES)
    title = query_value(query, "title")
    return [
        p
        for p in pages
        if (not space_ids or p.space_key in space_keys)
        and (not page_ids or p.id in page_ids)
        and p.status in statuses
        and (title is None or p.title == title)
    ]


def _paginate(items: list[Item], subpath: str, query: Query) -> tuple[list[Item], str | None]:
    """Keyset paging on numeric id: a cursor resumes after the last id served, so edits between calls never
    shift the window (what Confluence's cursors do)."""
    limit = int_param(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    cursor = query_value(query, "cursor")
    if cursor is not None:
        after = int(decode_cursor(PREFIX + subpath, cursor))
        items = [item for item in items if int(item.id) > after]
    chunk = items[:limit]
    if len(items) <= limit:
        return chunk, None
    params = [(name, value) for name, values in query.items() if name != "cursor" for value in values]
    params.append(("cursor", encode_cursor(PREFIX + subpath, chunk[-1].id)))
    return chunk, f"{PREFIX}{subpath}?{urlencode(params)}"


def _list_result(results: list[dict[str, object]], next_link: str | None, base: str) -> ApiResult:
    links: dict[str, str] = {"base": base}
    headers: dict[str, str] = {}
    if next_link is not None:
        links["next"] = next_link
        root = base.removesuffix("/wiki")
        headers["Link"] = f'<{root}{next_link}>; rel="next", <{base}>; rel="base"'
    return ApiResult(200, {"results": results, "_links": links}, headers)


def _body_format(query: Query) -> str | None:
    body_format = query_value(query, "body-format")
    if body_format is None:
        return None
    if body_format not in ("storage", "atlas_doc_format", "view"):
        raise BadRequest("'body-format' must be one of [storage, atlas_doc_format, view]")
    return body_format


def _space_by_numeric_id(site: Site, raw_id: str) -> Space | None:
    if not raw_id.isdigit():
        raise BadRequest("'id' must be numeric")
    return site.space_by_id(raw_id)


def space_v2(site: Site, space: Space, query: Query) -> dict[str, object]:
    """A SpaceBulk object; `description` only with `description-format`, `icon` only with `include-icon`."""
    body: dict[str, object] = {
        "id": space.id,
        "key": space.key,
        "name": space.name,
        "type": space.type,
        "status": "current",
        "authorId": space.author_id,
        "createdAt": space.created_at,
    }
    homepage = site.homepage(space.key)
    if homepage is not None:
        body["homepageId"] = homepage.id
    description_format = query_value(query, "description-format")
    if description_format in ("plain", "view"):
        body["description"] = {description_format: {"representation": description_format, "value": space.description}}
    if query_value(query, "include-icon") == "true":
        body["icon"] = {"path": f"/wiki/aa-avatar/{space.id}.png", "apiDownloadLink": f"/download/{space.id}"}
    body["_links"] = {"webui": f"/spaces/{space.key}"}
    return body


def page_v2(site: Site, page: Page, body_format: str | None) -> dict[str, object]:
    """A PageBulk object; `body` is {} unless a body format is asked for (storage bodies served verbatim)."""
    space = site.space(page.space_key)
    assert space is not None
    body: dict[str, object] = {"id": page.id, "status": page.status, "title": page.title, "spaceId": space.id}
    if page.parent_id is not None:
        body["parentId"] = page.parent_id
        body["parentType"] = site.parent_type(page.parent_id)
    body.update(
        {
            "position": site.position(page),
            "authorId": page.author_id,
            "ownerId": page.author_id,
            "lastOwnerId": None,
            "createdAt": page.created_at,
            "version": {
                "createdAt": page.updated_at,
                "message": "",
                "number": page.version,
                "minorEdit": False,
                "authorId": page.author_id,
            },
            "body": _page_body(page, body_format),
            "_links": {
                "webui": f"/spaces/{space.key}/pages/{page.id}/{title_slug(page.title)}",
                "editui": f"/pages/resumedraft.action?draftId={page.id}",
                "tinyui": f"/x/{tiny_code(page.id)}",
            },
        }
    )
    return body


def _page_body(page: Page, body_format: str | None) -> dict[str, object]:
    if body_format == "storage":
        return {"storage": {"representation": "storage", "value": page.body}}
    if body_format is not None:  # other formats are not modelled: an empty document of the asked type
        return {body_format: {"representation": body_format, "value": ""}}
    return {}
