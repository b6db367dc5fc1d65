"""User look-ups: Cloud v2 `POST /users-bulk`, Cloud v1 `GET /user/bulk` and `GET /user?accountId=`, Data Center
`GET /rest/api/user?key=` (or `?username=`). Shapes: openapi-v2.v3.json (`MultiEntityResult<User>`, `User` with
`accountStatus`) and swagger-v1-cloud-2021-11.json (`BulkUserLookupArray`, `User`).

Ids the site does not know are left out of bulk answers (as Confluence does) and are a 404 for single look-ups.
A deactivated account (`Site.inactive_users`) keeps its display name and is served with `accountStatus: inactive`.
"""

from __future__ import annotations

import json

from .common import ApiResult, Query, query_value, query_values, v1_error, v2_error
from .site import Site
from .v1_shapes import Links, user_v1

V1_BULK_MAX = 200  # swagger: "Currently API returns 200 results max"
V2_BULK_MAX = 250
_DEFAULT_AVATAR = {"path": "/wiki/aa-avatar/default.png", "width": 48, "height": 48, "isDefault": True}


def _known(site: Site, account_id: str) -> bool:
    return account_id in site.users or account_id in site.inactive_users


def handle_v2_users(site: Site, subpath: str, method: str, body: bytes | None) -> ApiResult | None:
    """`POST /users-bulk` with `{"accountIds": [...]}`; None: not a users path."""
    if subpath != "/users-bulk":
        return None
    if method != "POST":
        return v2_error(405, "METHOD_NOT_ALLOWED", "Method Not Allowed")
    try:
        request = json.loads(body or b"")
        account_ids = request["accountIds"]
        if not isinstance(account_ids, list) or not all(isinstance(i, str) for i in account_ids):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return v2_error(400, "INVALID_REQUEST_PARAMETER", "accountIds must be a list of account ids")
    if not 1 <= len(account_ids) <= V2_BULK_MAX:
        return v2_error(400, "INVALID_REQUEST_PARAMETER", f"between 1 and {V2_BULK_MAX} accountIds")
    results = [_user_v2(site, i) for i in dict.fromkeys(account_ids) if _known(site, i)]
    return ApiResult(200, {"results": results, "_links": {}})


def _user_v2(site: Site, account_id: str) -> dict[str, object]:
    return {
        "accountId": account_id,
        "accountType": "atlassian",
        "accountStatus": "inactive" if account_id in site.inactive_users else "active",
        "displayName": site.display_name(account_id),
        "publicName": site.display_name(account_id),
        "email": site.emails.get(account_id, ""),
        "isExternalCollaborator": False,
    }


def handle_v1_users(site: Site, subpath: str, query: Query, links: Links) -> ApiResult | None:
    """`/user/bulk` (Cloud) and `/user` (Cloud by accountId, Data Center by key or username); None: not ours."""
    if subpath == "/user/bulk" and links.flavor == "cloud":
        ids = query_values(query, "accountId")
        if not ids:
            return v1_error(400, "accountId is required")
        try:
            limit = int(query_value(query, "limit", str(V1_BULK_MAX)) or V1_BULK_MAX)
        except ValueError:
            return v1_error(400, "limit must be a number")
        known = [i for i in dict.fromkeys(ids) if _known(site, i)][: max(1, min(limit, V1_BULK_MAX))]
        results = [{**user_v1(site, i, links), "profilePicture": _DEFAULT_AVATAR} for i in known]
        return ApiResult(
            200,
            {
                "results": results,
                "start": 0,
                "limit": limit,
                "size": len(results),
                "_links": {"base": links.base, "context": links.context, "self": f"{links.base}/rest/api/user/bulk"},
            },
        )
    if subpath != "/user":
        return None
    account_id = _single_user_id(site, query, links)
    if account_id is None:
        return v1_error(404, "No user found with the given identifier")
    return ApiResult(200, user_v1(site, account_id, links))


def _single_user_id(site: Site, query: Query, links: Links) -> str | None:
    if links.flavor == "cloud":
        wanted = query_value(query, "accountId")
        return wanted if wanted and _known(site, wanted) else None
    key = query_value(query, "key")
    if key:
        return key if _known(site, key) else None
    username = query_value(query, "username")
    for account_id in sorted(set(site.users) | set(site.inactive_users)):
        if username and user_v1(site, account_id, links).get("username") == username:
            return account_id
    return None
