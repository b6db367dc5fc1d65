"""Who-may-read endpoints: v1 restrictions by operation, CQL content search (with the `restrictions.*` expansions),
group members (Cloud by name and by id, Data Center by name), and Cloud v2 space permission assignments.

`forbidden` (from `Faults.forbidden`) makes a family of them answer 403, as Confluence does for credentials that
lack the right: "space_permissions" (v2 `/spaces/{id}/permissions`, v1 `expand=permissions`), "group_members",
"restrictions" (by-operation and the `restrictions` expansion). Shapes: swagger-v1-cloud-2021-11.json and
openapi-v2.v3.json (`SpacePermissionAssignment`). Cloud v2 has no principal type for anonymous access, so an
anonymous grant shows only in v1 `expand=permissions` (`anonymousAccess`).
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from .access import Group
from .api_v1 import V1_MAX_LIMIT, content_v1, expansions_of
from .api_v2 import PREFIX
from .common import (
    ApiResult,
    BadRequest,
    Query,
    decode_cursor,
    encode_cursor,
    int_param,
    query_value,
    v1_error,
    v2_error,
)
from .site import Page, Site
from .v1_shapes import Links, content_restriction_v1, user_v1, window

GROUP_MEMBERS_MAX_LIMIT = 200
FORBIDDEN_FAMILIES = ("space_permissions", "group_members", "restrictions")


def handle_v1_access(
    site: Site, subpath: str, query: Query, links: Links, forbidden: frozenset[str]
) -> ApiResult | None:
    """The answer for an access endpoint or an access expansion under `<context>/rest/api`; None: not ours."""
    try:
        return _route_v1(site, subpath, query, links, forbidden)
    except BadRequest as error:
        return v1_error(400, str(error))


def _route_v1(site: Site, subpath: str, query: Query, links: Links, forbidden: frozenset[str]) -> ApiResult | None:
    expansions = expansions_of(query)
    if "restrictions" in forbidden and "restrictions" in expansions:
        return _forbidden_v1("read content restrictions")
    if "space_permissions" in forbidden and "permissions" in expansions and subpath.startswith("/space"):
        return _forbidden_v1("view space permissions")
    if subpath == "/content/search":
        return _content_search(site, query, links)
    if (match := re.fullmatch(r"/content/(\d+)", subpath)) and _ancestors_refused(
        site, match.group(1), expansions, links
    ):
        return v1_error(404, f"No content found with id: ContentId{{id={match.group(1)}}}")
    if match := re.fullmatch(r"/content/([^/]+)/restriction/byOperation/([^/]+)", subpath):
        if "restrictions" in forbidden:
            return _forbidden_v1("read content restrictions")
        content_id = match.group(1)  # any content: pages, blog posts and containers (folders ...) alike
        page = (
            (site.page(content_id) or site.blog_post(content_id) or site.container_by_id(content_id))
            if content_id.isdigit()
            else None
        )
        if page is None:
            return v1_error(404, f"No content found with id: ContentId{{id={match.group(1)}}}")
        if match.group(2) not in ("read", "update"):
            return v1_error(400, f"Operation key must be one of [read, update], got {match.group(2)}")
        wanted = expansions or {"restrictions", "restrictions.user", "restrictions.group"}  # both by default
        start, limit = int_param(query, "start", 0, 0), int_param(query, "limit", 200, 1)
        return ApiResult(
            200, content_restriction_v1(site, page, match.group(2), wanted, links, start=start, limit=limit)
        )
    group = _group_route(site, subpath, query, links)
    if group is not None:
        if "group_members" in forbidden and group[1]:
            return _forbidden_v1("view users")
        return group[0]
    return None


def _forbidden_v1(what: str) -> ApiResult:
    result = v1_error(403, f"The calling user does not have permission to {what}")
    result.body["reason"] = "Forbidden"  # type: ignore[index]
    return result


def _group_route(site: Site, subpath: str, query: Query, links: Links) -> tuple[ApiResult, bool] | None:
    """(answer, is a member listing) for the group endpoints; None when `subpath` is not one."""
    users = site.user_ids()
    if subpath == "/group/member":
        name = query_value(query, "name")
        if not name:
            return v1_error(400, "The 'name' parameter is required"), False
        return _members(site, site.access.group(name, users), name, subpath, query, links), True
    if (match := re.fullmatch(r"/group/([^/]+)/membersByGroupId", subpath)) and links.flavor == "cloud":
        group = site.access.group_by_id(match.group(1), users)
        return _members(site, group, match.group(1), subpath, query, links), True
    if match := re.fullmatch(r"/group/([^/]+)/member", subpath):
        name = match.group(1)
        return _members(site, site.access.group(name, users), name, subpath, query, links), True
    if subpath == "/group/by-id" and links.flavor == "cloud":
        group = site.access.group_by_id(query_value(query, "id") or "", users)
        if group is None:
            return v1_error(404, f"No group found with id: {query_value(query, 'id')}"), False
        self_link = f"{links.base}/rest/api/group/by-id?id={group.id}"
        return ApiResult(
            200, {"type": "group", "name": group.name, "id": group.id, "_links": {"self": self_link}}
        ), False
    return None


def _members(site: Site, group: Group | None, asked: str, subpath: str, query: Query, links: Links) -> ApiResult:
    """A UserArray page of the group's members, `limit` capped at 200 (Confluence's fixed limit)."""
    if group is None:
        return v1_error(404, f"No group found with name or id: {asked}")
    start = int_param(query, "start", 0, 0)
    limit = min(int_param(query, "limit", GROUP_MEMBERS_MAX_LIMIT, 0), GROUP_MEMBERS_MAX_LIMIT)
    body = window([user_v1(site, member, links) for member in group.members], start, limit)
    params = [(k, v) for k, values in query.items() if k not in ("start", "limit") for v in values]
    body_links = {"base": links.base, "context": links.context, "self": f"{links.base}/rest/api{subpath}"}
    if start + int(body["size"]) < len(group.members) and body["size"]:  # type: ignore[call-overload]
        next_query = urlencode([*params, ("limit", str(limit)), ("start", str(start + limit))])
        body_links["next"] = f"/rest/api{subpath}?{next_query}"
    body["_links"] = body_links
    return ApiResult(200, body)


# ---- CQL content search -----------------------------------------------------------------------------------------
_CLAUSE = re.compile(
    r"""\s*(space|type|id|ancestor)\s*(=|in)\s*(\((?:[^()]*)\)|"[^"]*"|'[^']*'|[^\s()]+)\s*""", re.IGNORECASE
)


def _cql_filter(cql: str) -> dict[str, set[str]]:
    """The subset of CQL a sync needs: `space`, `type`, `id`, `ancestor` with `=` or `in (...)`, joined by `and`."""
    wanted: dict[str, set[str]] = {}
    for clause in re.split(r"\s+and\s+", cql.strip(), flags=re.IGNORECASE):
        match = _CLAUSE.fullmatch(clause)
        if match is None:
            raise BadRequest(f"Could not parse cql : {cql}")
        field, operator, raw = match.group(1).lower(), match.group(2).lower(), match.group(3)
        if operator == "in" and not raw.startswith("("):
            raise BadRequest(f"Could not parse cql : {cql}")
        values = raw.strip("()").split(",") if operator == "in" else [raw]
        wanted.setdefault(field, set()).update(v.strip().strip("\"'") for v in values if v.strip())
    return wanted


def _content_search(site: Site, query: Query, links: Links) -> ApiResult:
    """`/content/search?cql=...`: Cloud pages with a signed `cursor`, Data Center with `start`; pages by id."""
    cql = query_value(query, "cql")
    if not cql:
        raise BadRequest("CQL query parameter is required")
    wanted = _cql_filter(cql)
    pages = [p for p in site.all_pages() if p.status == "current" and _matches(site, p, wanted)]
    limit = min(int_param(query, "limit", 25, 0), V1_MAX_LIMIT)
    path = f"{links.context}/rest/api/content/search"
    cursor = query_value(query, "cursor")
    if links.flavor == "cloud":
        start = int(decode_cursor(path, cursor)) if cursor else 0
    else:
        start = int_param(query, "start", 0, 0)
    expansions = expansions_of(query)
    if any(_ancestors_refused(site, p.id, expansions, links) for p in pages[start : start + limit]):
        return v1_error(404, "Not Found")  # CONFCLOUD-77618: the whole batch, for one page's draft or trashed ancestor
    results = [content_v1(site, p, expansions, links) for p in pages[start : start + limit]]
    params = [(k, v) for k, values in query.items() if k not in ("start", "limit", "cursor") for v in values]
    body_links = {"base": links.base, "context": links.context, "self": f"{links.base}/rest/api/content/search"}
    if start + len(results) < len(pages) and results:
        position = ("cursor", encode_cursor(path, str(start + len(results))))
        if links.flavor == "dc":
            position = ("start", str(start + len(results)))
        body_links["next"] = f"/rest/api/content/search?{urlencode([*params, ('limit', str(limit)), position])}"
    body = {"results": results, "start": start, "limit": limit, "size": len(results), "_links": body_links}
    return ApiResult(200, body)


def _ancestors_refused(site: Site, content_id: str, expansions: set[str], links: Links) -> bool:
    """Confluence Cloud answers 404 when `ancestors` is expanded for a page one of whose ancestors is a draft or
    trashed (CONFCLOUD-77618/76424, seen by the Onyx and Elastic connectors): a CQL batch holding such a page fails
    whole, and so does the page on its own."""
    page = site.page(content_id)
    if links.flavor != "cloud" or "ancestors" not in expansions or page is None:
        return False
    return any(ancestor.status not in ("current", "archived") for ancestor in site.v1_ancestors(page))


def _matches(site: Site, page: Page, wanted: dict[str, set[str]]) -> bool:
    if "space" in wanted and page.space_key not in wanted["space"]:
        return False
    if "type" in wanted and "page" not in wanted["type"]:
        return False
    if "id" in wanted and page.id not in wanted["id"]:
        return False
    return "ancestor" not in wanted or any(a.id in wanted["ancestor"] for a in site.ancestors(page))


# ---- v2 space permission assignments ------------------------------------------------------------------------------
def handle_v2_access(
    site: Site, subpath: str, query: Query, root_url: str, forbidden: frozenset[str]
) -> ApiResult | None:
    """`/spaces/{id}/permissions` (cursor paged, `limit` 1..250); None when `subpath` is not ours."""
    match = re.fullmatch(r"/spaces/([^/]+)/permissions", subpath)
    if match is None:
        return None
    try:
        return _space_permissions_v2(site, match.group(1), subpath, query, root_url, forbidden)
    except BadRequest as error:
        return v2_error(400, "INVALID_REQUEST_PARAMETER", str(error))


def _space_permissions_v2(
    site: Site, raw_id: str, subpath: str, query: Query, root_url: str, forbidden: frozenset[str]
) -> ApiResult:
    if not raw_id.isdigit():
        raise BadRequest("'id' must be numeric")
    space = site.space_by_id(raw_id)
    if space is None:
        return v2_error(404, "NOT_FOUND", "Space not found")
    if "space_permissions" in forbidden:
        return v2_error(403, "FORBIDDEN", "The calling user does not have permission to view space permissions")
    grant = site.access.space_grant(space.key, space.type, space.author_id)
    users = site.user_ids()
    principals: list[tuple[str, str]] = [("user", u) for u in grant.users]
    for name in grant.groups:
        group = site.access.group(name, users)
        if group is not None:
            principals.append(("group", group.id))
    assignments = [
        _assignment(int(space.id) * 1000 + n, kind, who, "read", "space") for n, (kind, who) in enumerate(principals)
    ]
    assignments.append(_assignment(int(space.id) * 1000 + 999, "user", space.author_id, "create", "page"))
    limit = int_param(query, "limit", 25, 1, 250)
    path = PREFIX + subpath
    cursor = query_value(query, "cursor")
    start = int(decode_cursor(path, cursor)) if cursor else 0
    chunk = assignments[start : start + limit]
    base = f"{root_url}/wiki"
    links: dict[str, str] = {"base": base}
    headers: dict[str, str] = {}
    if start + limit < len(assignments):
        params = [(k, v) for k, values in query.items() if k != "cursor" for v in values]
        links["next"] = f"{path}?{urlencode([*params, ('cursor', encode_cursor(path, str(start + limit)))])}"
        headers["Link"] = f'<{root_url}{links["next"]}>; rel="next", <{base}>; rel="base"'
    return ApiResult(200, {"results": chunk, "_links": links}, headers)


def _assignment(number: int, kind: str, who: str, operation: str, target: str) -> dict[str, object]:
    return {
        "id": str(number),
        "principal": {"type": kind, "id": who},
        "operation": {"key": operation, "targetType": target},
    }
