"""Confluence REST v1 (`/rest/api/...`): Cloud under `/wiki`, Data Center under its context path.

Offset paging with `start`/`limit`; `limit` is capped at V1_MAX_LIMIT and the response's `limit` reports the cap, as
Confluence does (a client that adds its own requested limit to `start` skips pages; following `_links.next` does
not). Unexpanded parts appear under `_expandable`, as in Confluence. Shapes follow swagger-v1-cloud-2021-11.json.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

from .common import (
    ApiResult,
    BadRequest,
    Query,
    int_param,
    query_value,
    query_values,
    tiny_code,
    v1_error,
)
from .containers import Container
from .site import Page, Site, Space
from .v1_shapes import Flavor, Links, content_restrictions_v1, label_array, space_permissions_v1, user_v1

V1_MAX_LIMIT = 100
DEFAULT_LIMIT = 25
CONTENT_EXPANDABLES = (
    "childTypes",
    "container",
    "metadata",
    "operations",
    "children",
    "restrictions",
    "history",
    "ancestors",
    "body",
    "version",
    "descendants",
    "space",
)


def handle_v1(site: Site, subpath: str, query: Query, base: str, context: str, flavor: Flavor) -> ApiResult:
    """Route a GET under `<context>/rest/api` (`subpath` starts with '/'); `base` = absolute URL of `context`."""
    try:
        return _route(site, subpath, query, Links(base, context, flavor))
    except BadRequest as error:
        return v1_error(400, str(error))


def _route(site: Site, subpath: str, query: Query, links: Links) -> ApiResult:
    if subpath == "/space":
        return _space_list(site, query, links)
    if subpath == "/content":
        return _content_list(site, query, links)
    if match := re.fullmatch(r"/space/([^/]+)", subpath):
        space = site.space(match.group(1))
        if space is None:
            return v1_error(404, f"No space found with key : {match.group(1)}")
        return ApiResult(200, space_v1(space, links, site, expansions_of(query)))
    if match := re.fullmatch(r"/content/([^/]+)", subpath):
        page = site.page(match.group(1)) if match.group(1).isdigit() else None
        if page is None or page.status not in (query_values(query, "status") or ["current", "archived"]):
            return v1_error(404, f"No content found with id: ContentId{{id={match.group(1)}}}")
        return ApiResult(200, content_v1(site, page, expansions_of(query), links))
    return v1_error(404, f"No endpoint at {links.context}/rest/api{subpath}")


def _space_list(site: Site, query: Query, links: Links) -> ApiResult:
    keys = set(query_values(query, "spaceKey"))
    ids = set(query_values(query, "spaceId"))
    space_type = query_value(query, "type")
    spaces = [
        s
        for s in site.spaces
        if (not keys or s.key in keys) and (not ids or s.id in ids) and (space_type is None or s.type == space_type)
    ]
    expansions = expansions_of(query)
    return _offset_page("/space", query, links, [space_v1(s, links, site, expansions) for s in spaces])


def _content_list(site: Site, query: Query, links: Links) -> ApiResult:
    content_type = query_value(query, "type", "page")
    space_keys = set(query_values(query, "spaceKey"))
    statuses = set(query_values(query, "status")) or {"current"}
    title = query_value(query, "title")
    pages = (
        []
        if content_type != "page"
        else [
            p
            for p in site.all_pages()
            if (not space_keys or p.space_key in space_keys)
            and ("any" in statuses or p.status in statuses)
            and (title is None or p.title == title)
        ]
    )
    start, limit = _start_and_limit(query)
    expansions = expansions_of(query)
    window = [content_v1(site, p, expansions, links) for p in pages[start : start + limit]]
    return _offset_page("/content", query, links, window, total=len(pages), start=start, limit=limit)


def _start_and_limit(query: Query) -> tuple[int, int]:
    start = int_param(query, "start", 0, 0)
    limit = min(int_param(query, "limit", DEFAULT_LIMIT, 0), V1_MAX_LIMIT)
    return start, limit


def _offset_page(
    subpath: str,
    query: Query,
    links: Links,
    items: list[dict[str, object]],
    total: int | None = None,
    start: int | None = None,
    limit: int | None = None,
) -> ApiResult:
    """A v1 list envelope; `items` is either the full list (sliced here) or an already-sliced window of `total`."""
    if start is None or limit is None:
        start, limit = _start_and_limit(query)
        total = len(items)
        items = items[start : start + limit]
    assert total is not None
    params = [(name, value) for name, values in query.items() if name not in ("start", "limit") for value in values]
    self_query = urlencode([*params, ("limit", str(limit)), ("start", str(start))])
    result_links: dict[str, str] = {
        "base": links.base,
        "context": links.context,
        "self": f"{links.base}/rest/api{subpath}?{self_query}",
    }
    if start + len(items) < total and items:
        next_query = urlencode([*params, ("limit", str(limit)), ("start", str(start + len(items)))])
        result_links["next"] = f"/rest/api{subpath}?{next_query}"
    if start > 0:
        prev_query = urlencode([*params, ("limit", str(limit)), ("start", str(max(0, start - limit)))])
        result_links["prev"] = f"/rest/api{subpath}?{prev_query}"
    body = {"results": items, "start": start, "limit": limit, "size": len(items), "_links": result_links}
    return ApiResult(200, body)


def expansions_of(query: Query) -> set[str]:
    """`expand=body.storage,version` -> {"body", "body.storage", "version"} (a dotted item implies its parent)."""
    expansions: set[str] = set()
    for item in query_values(query, "expand"):
        parts = item.split(".")
        expansions.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return expansions


def space_v1(
    space: Space, links: Links, site: Site | None = None, expansions: set[str] = frozenset()
) -> dict[str, object]:
    expandable_keys = (
        "settings",
        "metadata",
        "operations",
        "lookAndFeel",
        "identifiers",
        "permissions",
        "icon",
        "description",
        "theme",
        "history",
        "homepage",
    )
    body: dict[str, object] = {
        "id": int(space.id),
        "key": space.key,
        "name": space.name,
        "type": space.type,
        "status": "current",
    }
    if "permissions" in expansions and site is not None:
        body["permissions"] = space_permissions_v1(site, space, links)
    return {
        **body,
        "_expandable": {key: "" for key in expandable_keys if key not in expansions},
        "_links": {"webui": links.space_webui(space), "self": f"{links.base}/rest/api/space/{quote(space.key)}"},
    }


def content_v1(site: Site, page: Page, expansions: set[str], links: Links) -> dict[str, object]:
    space = site.space(page.space_key)
    assert space is not None
    self_link = f"{links.base}/rest/api/content/{page.id}"
    content: dict[str, object] = {"id": page.id, "type": "page", "status": page.status, "title": page.title}
    if "space" in expansions:
        content["space"] = space_v1(space, links)
    if "history" in expansions:
        history: dict[str, object] = {
            "latest": True,
            "createdBy": user_v1(site, page.author_id, links),
            "createdDate": page.created_at,
        }
        if "history.lastUpdated" in expansions:
            history["lastUpdated"] = _version(site, page, links)
        history["_links"] = {"self": f"{self_link}/history"}
        content["history"] = history
    if "version" in expansions:
        content["version"] = _version(site, page, links)
    if "ancestors" in expansions:
        content["ancestors"] = [_ancestor(site, a, links) for a in site.v1_ancestors(page)]
    if "body" in expansions:
        content["body"] = _body(page, expansions, self_link)
    if "restrictions" in expansions:
        content["restrictions"] = content_restrictions_v1(site, page, expansions, links)
    if "metadata.labels" in expansions:
        content["metadata"] = {"labels": label_array(page)}
    content["extensions"] = {"position": site.position(page)}
    content["_expandable"] = {key: "" for key in CONTENT_EXPANDABLES if key not in expansions}
    content["_links"] = {
        "webui": links.page_webui(space, page),
        "edit": f"/pages/resumedraft.action?draftId={page.id}",
        "tinyui": f"/x/{tiny_code(page.id)}",
        "self": self_link,
    }
    return content


def _body(page: Page, expansions: set[str], self_link: str) -> dict[str, object]:
    body: dict[str, object] = {}
    if "body.storage" in expansions:
        body["storage"] = {
            "value": page.body,
            "representation": "storage",
            "embeddedContent": [],
            "_expandable": {"content": self_link},
        }
    body["_expandable"] = {
        kind: ""
        for kind in (
            "editor",
            "view",
            "export_view",
            "styled_view",
            "storage",
            "editor2",
            "anonymous_export_view",
            "atlas_doc_format",
        )
        if f"body.{kind}" not in expansions
    }
    return body


def _ancestor(site: Site, ancestor: Page | Container, links: Links) -> dict[str, object]:
    """One v1 `ancestors` entry; a container is listed with its own type (`folder`, ...), as Cloud lists folders."""
    space = site.space(ancestor.space_key)
    assert space is not None
    if isinstance(ancestor, Container):
        kind, webui = ancestor.type, f"/spaces/{space.key}/{ancestor.type}/{ancestor.id}"
    else:
        kind, webui = "page", links.page_webui(space, ancestor)
    return {
        "id": ancestor.id,
        "type": kind,
        "status": ancestor.status,
        "title": ancestor.title,
        "_expandable": {key: "" for key in CONTENT_EXPANDABLES},
        "_links": {"webui": webui, "self": f"{links.base}/rest/api/content/{ancestor.id}"},
    }


def _version(site: Site, page: Page, links: Links) -> dict[str, object]:
    return {
        "by": user_v1(site, page.author_id, links),
        "when": page.updated_at,
        "friendlyWhen": page.updated_at[:10],
        "message": "",
        "number": page.version,
        "minorEdit": False,
        "contentTypeModified": False,
        "_expandable": {"collaborators": "", "content": f"/rest/api/content/{page.id}"},
        "_links": {"self": f"{links.base}/rest/api/content/{page.id}/version/{page.version}"},
    }
