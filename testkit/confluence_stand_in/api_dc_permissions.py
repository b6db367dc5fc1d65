"""Data Center space permission routes beside `?expand=permissions` (api_access.py): the 9.1+ REST route
`GET <context>/rest/api/space/{key}/permissions` and JSON-RPC `POST <context>/rpc/json-rpc/confluenceservice-v2/
getSpacePermissionSets` (versions before 9). Neither is in the stored OpenAPI documents (both are Data Center only);
shapes from public sources, noted per function. `Faults.dc_space_permissions` (route -> HTTP status) makes a route
answer as it does for a non-admin or on a version without it: `expand` (500 as CONFSERVER-99908, or 403), `rest`
(404 before 9.1, 403 for a non-admin), `json_rpc` (404 where the remote API is gone, 403 when it is turned off, or
`200` with a JSON-RPC error object as for a non-admin)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from .common import ApiResult, v1_error
from .site import Site

DC_PERMISSION_ROUTES = ("expand", "rest", "json_rpc")
JSON_RPC_PREFIX = "/rpc/json-rpc/confluenceservice-v2/"


def refused(route: str, refusals: Mapping[str, int], forbidden: frozenset[str]) -> ApiResult | None:
    """The answer that replaces a permission route's, or None when the route answers."""
    status = 403 if "space_permissions" in forbidden else refusals.get(route)
    if status is None:
        return None
    if status == 500:  # CONFSERVER-99908: some versions fail a non-admin's request instead of refusing it
        return v1_error(500, "java.lang.NullPointerException")
    if route == "json_rpc" and status == 200:
        return ApiResult(
            200, _rpc_error("NotPermittedException: You're not allowed to view that space, or it does not exist.")
        )
    return v1_error(status, "The calling user does not have permission to view space permissions")


def handle_rest_permissions(
    site: Site, subpath: str, refusals: Mapping[str, int], forbidden: frozenset[str]
) -> ApiResult | None:
    """9.1+: a JSON array of `{operation: {targetType, operationKey}, subject: {type: group, name} | {type: user,
    userKey}, spaceKey, spaceId}` (shape quoted in CONFSERVER-100505); anonymous access is not among the quoted
    entries, so none is served here (a client learns it from `expand=permissions` or JSON-RPC)."""
    match = re.fullmatch(r"/space/([^/]+)/permissions", subpath)
    if match is None:
        return None
    answer = refused("rest", refusals, forbidden)
    if answer is not None:
        return answer
    space = site.space(match.group(1))
    if space is None:
        return v1_error(404, f"No space found with key : {match.group(1)}")
    grant = site.access.space_grant(space.key, space.type, space.author_id)
    read = {"targetType": "space", "operationKey": "read"}
    subjects = [{"type": "user", "userKey": u} for u in grant.users] + [
        {"type": "group", "name": g} for g in grant.groups
    ]
    entries = [{"operation": read, "subject": s, "spaceKey": space.key, "spaceId": int(space.id)} for s in subjects]
    entries.append(
        {
            "operation": {"targetType": "page", "operationKey": "create"},
            "subject": {"type": "user", "userKey": space.author_id},
            "spaceKey": space.key,
            "spaceId": int(space.id),
        }
    )
    return ApiResult(200, entries)


def handle_json_rpc(
    site: Site, subpath: str, method: str, body: bytes | None, refusals: Mapping[str, int], forbidden: frozenset[str]
) -> ApiResult:
    """`getSpacePermissionSets(spaceKey)`: a JSON array of SpacePermissionSet `{type, spacePermissions: [{type,
    groupName, userName}]}` (Confluence's remote API data objects; a permission with neither a group nor a user is
    for anonymous users). Users are named by username, not user key."""
    name = subpath.removeprefix(JSON_RPC_PREFIX)
    if name != "getSpacePermissionSets":
        return v1_error(404, f"No JSON-RPC method {name}")
    if method != "POST":
        return v1_error(405, "Method Not Allowed")
    answer = refused("json_rpc", refusals, forbidden)
    if answer is not None:
        return answer
    try:
        params = json.loads(body or b"")
        key = str(params[0])
    except (ValueError, IndexError, KeyError, TypeError):
        return ApiResult(200, _rpc_error("java.lang.IllegalArgumentException: spaceKey expected"))
    space = site.space(key)
    if space is None:
        return ApiResult(200, _rpc_error(f"NotPermittedException: No space found with key {key}"))
    grant = site.access.space_grant(space.key, space.type, space.author_id)
    view = [{"type": "VIEWSPACE", "groupName": g, "userName": None} for g in grant.groups]
    view += [{"type": "VIEWSPACE", "groupName": None, "userName": _username(site, u)} for u in grant.users]
    if grant.anonymous:
        view.append({"type": "VIEWSPACE", "groupName": None, "userName": None})
    create = [{"type": "EDITSPACE", "groupName": None, "userName": _username(site, space.author_id)}]
    return ApiResult(
        200, [{"type": "VIEWSPACE", "spacePermissions": view}, {"type": "EDITSPACE", "spacePermissions": create}]
    )


def _username(site: Site, user_key: str) -> str:
    """The Data Center username the stand-in serves for a user key (as v1_shapes.user_v1 spells it)."""
    return re.sub(r"[^a-z0-9.]", "", site.display_name(user_key).lower().replace(" ", ".")) or user_key


def _rpc_error(message: str) -> dict[str, object]:
    return {"jsonrpc": "2.0", "error": {"code": 0, "message": message}, "id": None}
