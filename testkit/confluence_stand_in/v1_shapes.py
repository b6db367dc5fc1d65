"""REST v1 objects shared by the content and the access endpoints: where links point, users, groups, restrictions.

Shapes follow swagger-v1-cloud-2021-11.json (User, Group, ContentRestriction, SpacePermission). Cloud names users
by `accountId` and groups by name and id; Data Center by `userKey` + `username` and groups by name only.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote

from .access import Grant
from .common import title_slug
from .content import BlogPost
from .site import Page, Site, Space

Flavor = Literal["cloud", "dc"]


class Links:
    """Where v1 URLs point for one flavor: Cloud webui is /spaces/KEY/pages/ID/Title, DC is viewpage.action."""

    def __init__(self, base: str, context: str, flavor: Flavor) -> None:
        self.base, self.context, self.flavor = base, context, flavor

    def page_webui(self, space: Space, page: Page) -> str:
        if self.flavor == "dc":
            return f"/pages/viewpage.action?pageId={page.id}"
        return f"/spaces/{space.key}/pages/{page.id}/{title_slug(page.title)}"

    def space_webui(self, space: Space) -> str:
        return f"/display/{space.key}" if self.flavor == "dc" else f"/spaces/{space.key}"


def user_v1(site: Site, account_id: str, links: Links) -> dict[str, object]:
    """Cloud identifies users by accountId; Data Center by userKey + username."""
    display_name = site.display_name(account_id)
    if links.flavor == "dc":
        username = re.sub(r"[^a-z0-9.]", "", display_name.lower().replace(" ", ".")) or account_id
        return {
            "type": "known",
            "username": username,
            "userKey": account_id,
            "displayName": display_name,
            "_links": {"self": f"{links.base}/rest/api/user?key={quote(account_id)}"},
        }
    return {
        "type": "known",
        "accountId": account_id,
        "accountType": "atlassian",
        "email": site.emails.get(account_id, ""),  # "" where the user's profile hides it (Cloud's default)
        "publicName": display_name,
        "displayName": display_name,
        "isExternalCollaborator": False,
        "_expandable": {"operations": "", "personalSpace": ""},
        "_links": {"self": f"{links.base}/rest/api/user?accountId={quote(account_id)}"},
    }


def group_v1(site: Site, name: str, links: Links) -> dict[str, object]:
    """A Group; Cloud adds the group id, Data Center has none."""
    group: dict[str, object] = {"type": "group", "name": name}
    if links.flavor == "cloud":
        known = site.access.group(name, site.user_ids())
        if known is not None:
            group["id"] = known.id
    group["_links"] = {"self": f"{links.base}/rest/api/group/{quote(name, safe='')}"}
    return group


def window(items: list[dict[str, object]], start: int, limit: int) -> dict[str, object]:
    """A UserArray/GroupArray page: results plus start/limit/size."""
    chunk = items[start : start + limit]
    return {"results": chunk, "start": start, "limit": limit, "size": len(chunk)}


RESTRICTION_SUBJECTS_MAX = 200  # each subject list of a restriction answer holds at most 200 (NOTE.md: real servers)


def content_restriction_v1(
    site: Site,
    page: Page,
    operation: str,
    expansions: set[str],
    links: Links,
    prefix: str = "restrictions.",
    start: int = 0,
    limit: int = RESTRICTION_SUBJECTS_MAX,
) -> dict[str, object]:
    """A ContentRestriction for `operation`; users and groups appear when `<prefix>user`/`<prefix>group` are
    expanded (the by-operation endpoint expands both by default, a content listing only when asked). Each list is a
    window of at most 200 (`start`, `limit`, `size`): a listing's expansion shows the first 200, the by-operation
    route pages both lists with its `start` and `limit`."""
    limit = max(1, min(limit, RESTRICTION_SUBJECTS_MAX))
    grant = site.access.restriction(page.id) if operation == "read" else Grant()
    restriction: dict[str, object] = {"operation": operation}
    parts: dict[str, object] = {}
    unexpanded: dict[str, str] = {}
    self_link = f"{links.base}/rest/api/content/{page.id}/restriction/byOperation/{operation}"
    if f"{prefix}user" in expansions:
        parts["user"] = window([user_v1(site, u, links) for u in grant.users[start : start + limit]], 0, limit)
        parts["user"]["start"] = start  # type: ignore[index]
    else:
        unexpanded["user"] = f"/rest/api/content/{page.id}/restriction/byOperation/{operation}/user"
    if f"{prefix}group" in expansions:
        parts["group"] = window([group_v1(site, g, links) for g in grant.groups[start : start + limit]], 0, limit)
        parts["group"]["start"] = start  # type: ignore[index]
    else:
        unexpanded["group"] = f"/rest/api/content/{page.id}/restriction/byOperation/{operation}/group"
    if unexpanded:
        parts["_expandable"] = unexpanded
    restriction["restrictions"] = parts
    restriction["_expandable"] = {"content": f"/rest/api/content/{page.id}"}
    restriction["_links"] = {"self": self_link}
    return restriction


def content_restrictions_v1(site: Site, page: Page, expansions: set[str], links: Links) -> dict[str, object]:
    """`restrictions` of a Content object: `read`/`update` when `restrictions.read`/`restrictions.update` are
    expanded (e.g. `expand=restrictions.read.restrictions.user,restrictions.read.restrictions.group`)."""
    body: dict[str, object] = {}
    unexpanded: dict[str, str] = {}
    for operation in ("read", "update"):
        key = f"restrictions.{operation}"
        if key in expansions:
            body[operation] = content_restriction_v1(site, page, operation, expansions, links, f"{key}.restrictions.")
        else:
            unexpanded[operation] = f"/rest/api/content/{page.id}/restriction/byOperation/{operation}"
    if unexpanded:
        body["_expandable"] = unexpanded
    body["_links"] = {"self": f"{links.base}/rest/api/content/{page.id}/restriction"}
    return body


def space_permissions_v1(site: Site, space: Space, links: Links) -> list[dict[str, object]]:
    """`permissions` of a Space (v1 `expand=permissions`): one read-space SpacePermission per user and per group,
    one with `anonymousAccess` when anonymous users may view the space, plus a create-page one (clients filter)."""
    grant = site.access.space_grant(space.key, space.type, space.author_id)
    read = {"operation": "read", "targetType": "space"}
    permissions: list[dict[str, object]] = []
    number = int(space.id) * 1000
    for user in grant.users:
        number += 1
        subjects = {"user": {"results": [user_v1(site, user, links)], "size": 1}}
        permissions.append(_space_permission(number, read, subjects))
    for group in grant.groups:
        number += 1
        subjects = {"group": {"results": [group_v1(site, group, links)], "size": 1}}
        permissions.append(_space_permission(number, read, subjects))
    if grant.anonymous:
        number += 1
        permissions.append(_space_permission(number, read, None, anonymous=True))
    if space.author_id:
        number += 1
        subjects = {"user": {"results": [user_v1(site, space.author_id, links)], "size": 1}}
        permissions.append(_space_permission(number, {"operation": "create", "targetType": "page"}, subjects))
    return permissions


def _space_permission(
    number: int, operation: dict[str, str], subjects: dict[str, object] | None, anonymous: bool = False
) -> dict[str, object]:
    permission: dict[str, object] = {"id": number}
    if subjects is not None:
        permission["subjects"] = subjects
    permission.update({"operation": operation, "anonymousAccess": anonymous, "unlicensedAccess": False})
    return permission


def label_array(container: Page | BlogPost) -> dict[str, object]:
    """LabelArray: the labels of a page or blog post (`/content/{id}/label`, `expand=metadata.labels`)."""
    results = [
        {"prefix": "global", "name": name, "id": str(int(container.id) * 1000 + i), "label": name}
        for i, name in enumerate(container.labels)
    ]
    return {"results": results, "start": 0, "limit": 200, "size": len(results)}
