"""Confluence's read-access rule as a pure function: who may read a page, as tokens an index can filter on.

A user may read a page iff both hold:
- they may view the space: a space read permission given to them, to one of their groups, or to anonymous users;
- at every restricted level on the path from the root to the page (the page itself and each ancestor that carries a
  read restriction) they are named, directly or through one of their groups.

Tokens: `user:<account id>` (Data Center: the user key), `group:<group name>`, and `anonymous` (anyone, signed in or
not). A searcher with account X and groups G1.. may read a record iff its `readers` share a token with
{user:X, group:G1, .., anonymous}. `readers` lists every user known to pass the rule (groups expanded with the
memberships read at sync time), every group whose every member passes it, and `anonymous` when the space is open
to anonymous users and no level restricts the page. Unknown membership or permissions only ever remove tokens.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

ANYONE = "anonymous"
logger = logging.getLogger("airbyte.source_confluence")


def user_token(account_id: str) -> str:
    return f"user:{account_id}"


def group_token(name: str) -> str:
    return f"group:{name}"


@dataclass(frozen=True)
class ReadGrant:
    """Principals named by a space's read permission or by one page's read restriction (`anonymous`: spaces only)."""

    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    anonymous: bool = False

    @property
    def restricts(self) -> bool:
        """A page restriction that names nobody does not restrict (Confluence drops empty restrictions)."""
        return bool(self.users or self.groups)


def restricted_levels(
    page_id: str, parent_of: Mapping[str, str | None], restriction_of: Mapping[str, ReadGrant]
) -> list[ReadGrant]:
    """The read restrictions on the path root -> page (the page included), root first; unrestricted levels left out.

    A parent that is not in `parent_of` ends the path (its own parent is unknown): callers that cannot see the whole
    path must treat the page as restricted (see `path_complete`)."""
    levels: list[ReadGrant] = []
    seen: set[str] = set()
    current: str | None = page_id
    while current is not None and current not in seen:
        seen.add(current)
        grant = restriction_of.get(current)
        if grant is not None and grant.restricts:
            levels.append(grant)
        current = parent_of.get(current)
    return list(reversed(levels))


def path_complete(page_id: str, parent_of: Mapping[str, str | None]) -> bool:
    """True when every ancestor of the page is known (in `parent_of`) and the path has no cycle."""
    seen: set[str] = set()
    current: str | None = page_id
    while current is not None:
        if current in seen or current not in parent_of:
            return False
        seen.add(current)
        current = parent_of[current]
    return True


def readers(space: ReadGrant, levels: Sequence[ReadGrant], members: Mapping[str, frozenset[str]]) -> list[str]:
    """Sorted tokens of the principals that may read a page whose space grants `space` and whose path carries the
    restrictions `levels`; `members` maps the group names whose membership is known to their account ids."""
    if space.anonymous and not levels:
        return [ANYONE]
    everyone_named = [space, *levels]
    candidates: set[str] = set()
    for grant in everyone_named:
        candidates |= grant.users
        for group in grant.groups:
            candidates |= members.get(group, frozenset())
    groups_of: dict[str, set[str]] = {user: set() for user in candidates}
    for group, accounts in members.items():
        for account in accounts:
            if account in groups_of:
                groups_of[account].add(group)

    def named(grant: ReadGrant, user: str) -> bool:
        return user in grant.users or bool(groups_of[user] & grant.groups)

    tokens = [
        user_token(user)
        for user in candidates
        if (space.anonymous or named(space, user)) and all(named(level, user) for level in levels)
    ]
    whole_groups = set(space.groups) | (set().union(*(level.groups for level in levels)) if levels else set())
    tokens += [
        group_token(group)
        for group in whole_groups
        if (space.anonymous or group in space.groups) and all(group in level.groups for level in levels)
    ]
    return sorted(tokens)


# ---- reading access from Confluence (one space at a time, a request or two per space and per group) ---------------
RESTRICTION_EXPAND = "restrictions.read.restrictions.user,restrictions.read.restrictions.group,ancestors"
ACCESS_PAGE_SIZE = 100  # v1 caps content listings at 100 per request
MEMBERS_PAGE_SIZE = 200  # Confluence's fixed limit for group members


@dataclass
class SpaceAccess:
    """What was learnt about one space: its read grant, each page's parent and own read restriction, and why any
    of it could not be read (`problems`, each naming the request and the HTTP status)."""

    grant: ReadGrant | None = None
    parent_of: dict[str, str | None] = field(default_factory=dict)
    restriction_of: dict[str, ReadGrant] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


Getter = Callable[[str, Mapping[str, Any] | None], Any]
"""GET with the sync's credentials and retries: the `requests.Response`, or the exception after the last retry."""


class AccessReader:
    """Reads and caches access per space and group membership per group, for the page records of one sync.

    Cloud: restrictions from CQL `/wiki/rest/api/content/search` with the `restrictions.read.restrictions.*`
    expansions, space grants from v2 `/spaces/{id}/permissions` (v2 reports no anonymous access: none is assumed),
    members from `/group/{groupId}/membersByGroupId`. Data Center: restrictions from `/rest/api/content` with the same
    expansions, space grants from `/rest/api/space/{key}?expand=permissions` (with `anonymousAccess`), members from
    `/rest/api/group/{name}/member`. Every answer that is not a 200 JSON body leaves that part unknown."""

    def __init__(self, get: Getter, *, cloud: bool, origin: str, site_base: str) -> None:
        self.get, self.cloud, self.origin, self.site_base = get, cloud, origin.rstrip("/"), site_base.rstrip("/")
        self.v1_root = f"{self.site_base}/rest/api"
        self._spaces: dict[str, SpaceAccess] = {}
        self._members: dict[str, frozenset[str] | None] = {}
        self._group_ids: dict[str, str] = {}
        self._lock = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self.warnings: list[str] = []

    # ---- per page ------------------------------------------------------------------------------------------------
    def page_access(self, page_id: str, space_key: str, space_id: str | None) -> tuple[bool, list[str]]:
        """(restricted, readers) of one page; anything that could not be read makes it restricted (fail closed)."""
        space = self.space(space_key, space_id)
        known = space.grant is not None and not space.problems and path_complete(page_id, space.parent_of)
        levels = restricted_levels(page_id, space.parent_of, space.restriction_of)
        groups = set(space.grant.groups if space.grant else ()) | {g for level in levels for g in level.groups}
        members = {group: self.members(group) for group in sorted(groups)}
        known_members = {group: accounts for group, accounts in members.items() if accounts is not None}
        if not known or space.grant is None:
            return True, []
        tokens = readers(space.grant, levels, known_members)
        if tokens == [ANYONE]:  # open to anyone: no membership changes that
            return False, tokens
        return bool(levels) or len(known_members) < len(members), tokens

    # ---- per space -------------------------------------------------------------------------------------------------
    def space(self, space_key: str, space_id: str | None) -> SpaceAccess:
        """The space's access, read once per sync (workers reading other spaces do not wait for it)."""
        with self._lock_for(("space", space_key)):
            cached = self._spaces.get(space_key)
            if cached is None:
                cached = self._read_space(space_key, space_id)
                for problem in cached.problems:
                    self._warn(problem)
                self._spaces[space_key] = cached
            return cached

    def _lock_for(self, key: tuple[str, str]) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())

    def _read_space(self, space_key: str, space_id: str | None) -> SpaceAccess:
        access = SpaceAccess()
        self._read_restrictions(space_key, access)
        access.grant = self.space_grant(space_key, space_id, access)
        return access

    def space_grant(self, space_key: str, space_id: str | None, access: SpaceAccess) -> ReadGrant | None:
        if self.cloud:
            return self._cloud_space_grant(space_key, space_id, access)
        return self._dc_space_grant(space_key, access)

    def restrictions_request(self, space_key: str) -> tuple[str, dict[str, Any]]:
        """URL and parameters listing a space's pages with their own read restrictions and their ancestors."""
        if self.cloud:
            cql = f'space = "{_cql_quote(space_key)}" and type = page'
            return f"{self.v1_root}/content/search", {
                "cql": cql,
                "expand": RESTRICTION_EXPAND,
                "limit": ACCESS_PAGE_SIZE,
            }
        params = {"spaceKey": space_key, "type": "page", "expand": RESTRICTION_EXPAND, "limit": ACCESS_PAGE_SIZE}
        return f"{self.v1_root}/content", params

    def _read_restrictions(self, space_key: str, access: SpaceAccess) -> None:
        url, params = self.restrictions_request(space_key)
        for body in self._v1_pages(url, params, access, f"read restrictions of space {space_key}"):
            for content in body.get("results") or []:
                page_id = str(content.get("id"))
                ancestors = content.get("ancestors") or []
                access.parent_of[page_id] = str(ancestors[-1].get("id")) if ancestors else None
                read = ((content.get("restrictions") or {}).get("read") or {}).get("restrictions") or {}
                users = frozenset(_user_id(u) for u in (read.get("user") or {}).get("results") or [])
                groups = (read.get("group") or {}).get("results") or []
                for group in groups:
                    if group.get("id"):
                        self._group_ids.setdefault(str(group.get("name")), str(group["id"]))
                grant = ReadGrant(users - {""}, frozenset(str(g.get("name")) for g in groups if g.get("name")))
                if grant.restricts:
                    access.restriction_of[page_id] = grant
                if _more_than_listed(read):
                    access.problems.append(
                        f"page {page_id} in space {space_key} names more users or groups than one answer lists"
                    )

    def _cloud_space_grant(self, space_key: str, space_id: str | None, access: SpaceAccess) -> ReadGrant | None:
        if not space_id:
            access.problems.append(f"space {space_key} has no id to read its permissions with")
            return None
        url: str | None = f"{self.origin}/wiki/api/v2/spaces/{space_id}/permissions"
        params: Mapping[str, Any] | None = {"limit": 250}
        users: set[str] = set()
        group_ids: set[str] = set()
        while url:
            body = self.fetch_json(url, params, access, f"read permissions of space {space_key}")
            if body is None:
                return None
            for assignment in body.get("results") or []:
                operation = assignment.get("operation") or {}
                principal = assignment.get("principal") or {}
                if operation.get("key") != "read" or operation.get("targetType") != "space":
                    continue
                if principal.get("type") == "user":
                    users.add(str(principal.get("id")))
                elif principal.get("type") == "group":
                    group_ids.add(str(principal.get("id")))
            next_link = (body.get("_links") or {}).get("next")
            url, params = (f"{self.origin}{next_link}", None) if next_link else (None, None)
        names = {self._group_name(group_id, access) for group_id in sorted(group_ids)}
        if None in names:
            return None
        return ReadGrant(frozenset(users), frozenset(n for n in names if n))

    def _group_name(self, group_id: str, access: SpaceAccess) -> str | None:
        for name, known_id in self._group_ids.items():
            if known_id == group_id:
                return name
        body = self.fetch_json(f"{self.v1_root}/group/by-id", {"id": group_id}, access, f"name group {group_id}")
        if body is None or not body.get("name"):
            return None
        self._group_ids[str(body["name"])] = group_id
        return str(body["name"])

    def _dc_space_grant(self, space_key: str, access: SpaceAccess) -> ReadGrant | None:
        what = f"read permissions of space {space_key}"
        body = self.fetch_json(
            f"{self.v1_root}/space/{quote(space_key, safe='~')}", {"expand": "permissions"}, access, what
        )
        if body is None:
            return None
        if "permissions" not in body:
            access.problems.append(f"Confluence did not {what} (no `permissions` in the answer; space admin needed)")
            return None
        users: set[str] = set()
        groups: set[str] = set()
        anonymous = False
        for permission in body.get("permissions") or []:
            if (permission.get("operation") or {}) != {"operation": "read", "targetType": "space"}:
                continue
            anonymous = anonymous or bool(permission.get("anonymousAccess"))
            subjects = permission.get("subjects") or {}
            users |= {_user_id(u) for u in (subjects.get("user") or {}).get("results") or []}
            groups |= {str(g.get("name")) for g in (subjects.get("group") or {}).get("results") or []}
        return ReadGrant(frozenset(users - {""}), frozenset(groups), anonymous)

    # ---- per group -------------------------------------------------------------------------------------------------
    def members(self, group: str) -> frozenset[str] | None:
        """Account ids in `group`, or None when they cannot be read (then the group grants nobody by membership)."""
        with self._lock_for(("group", group)):
            if group not in self._members:
                self._members[group] = self._read_members(group)
            return self._members[group]

    def members_request(self, group: str) -> tuple[str, dict[str, Any]]:
        """URL and parameters of the first page of a group's members."""
        if self.cloud and group in self._group_ids:
            return f"{self.v1_root}/group/{quote(self._group_ids[group], safe='')}/membersByGroupId", {
                "limit": MEMBERS_PAGE_SIZE
            }
        if self.cloud:
            return f"{self.v1_root}/group/member", {"name": group, "limit": MEMBERS_PAGE_SIZE}
        return f"{self.v1_root}/group/{quote(group, safe='')}/member", {"limit": MEMBERS_PAGE_SIZE}

    def _read_members(self, group: str) -> frozenset[str] | None:
        sink = SpaceAccess()
        url, params = self.members_request(group)
        accounts: set[str] = set()
        for body in self._v1_pages(url, params, sink, f"list the members of group {group}"):
            accounts |= {_user_id(u) for u in body.get("results") or []}
        for problem in sink.problems:
            self._warn(problem)
        return None if sink.problems else frozenset(accounts - {""})

    # ---- HTTP --------------------------------------------------------------------------------------------------------
    def _v1_pages(
        self, url: str, params: Mapping[str, Any] | None, access: SpaceAccess, what: str
    ) -> Iterator[dict[str, Any]]:
        """Every page of a v1 list, following `_links.next` (joined to `_links.base`); stops at the first failure."""
        next_url: str | None = url
        while next_url:
            body = self.fetch_json(next_url, params, access, what)
            if body is None:
                return
            yield body
            links = body.get("_links") or {}
            next_url = (
                f"{str(links.get('base') or self.site_base).rstrip('/')}{links['next']}" if links.get("next") else None
            )
            params = None

    def fetch_json(
        self, url: str, params: Mapping[str, Any] | None, access: SpaceAccess, what: str
    ) -> dict[str, Any] | None:
        outcome = self.get(url, params)
        path = urlsplit(url).path
        if isinstance(outcome, Exception):
            access.problems.append(f"could not {what}: {type(outcome).__name__} on {path} after retries")
            return None
        if outcome.status_code != 200:
            access.problems.append(f"could not {what}: HTTP {outcome.status_code} on {path}")
            return None
        try:
            body = outcome.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            access.problems.append(f"could not {what}: {path} did not answer a JSON object")
            return None
        return body

    def _warn(self, problem: str) -> None:
        message = f"Access: {problem}; the pages it concerns are treated as restricted (visibility internal)."
        self.warnings.append(message)
        logger.warning(message)


def _user_id(user: Mapping[str, Any]) -> str:
    """Cloud: accountId; Data Center: userKey (stable across renames), else username."""
    return str(user.get("accountId") or user.get("userKey") or user.get("username") or "")


def _more_than_listed(read: Mapping[str, Any]) -> bool:
    """Restriction answers page their users and groups; a full page may hide more names: not complete."""
    for part in ("user", "group"):
        listed = read.get(part) or {}
        limit = listed.get("limit")
        if limit and len(listed.get("results") or []) >= int(limit):
            return True
    return False


def _cql_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def access_check_sentence(reader: AccessReader, space_key: str, space_id: str | None) -> str | None:
    """One sentence for `check` when the credentials cannot read who may see pages (None when they can): what could
    not be read and what a sync assumes instead. A few requests: one space's permission, one restriction listing
    answer, one group's first members."""
    probe = SpaceAccess()
    restrictions_url, params = reader.restrictions_request(space_key)
    reader.fetch_json(restrictions_url, {**params, "limit": 1}, probe, f"read restrictions of space {space_key}")
    grant = reader.space_grant(space_key, space_id, probe)
    for group in sorted(grant.groups if grant else ())[:1]:
        url, member_params = reader.members_request(group)
        reader.fetch_json(url, {**(member_params or {}), "limit": 1}, probe, f"list the members of group {group}")
    if not probe.problems:
        return None
    more = f" and {len(probe.problems) - 1} more" if len(probe.problems) > 1 else ""
    return (
        f"These credentials cannot read who may see every page ({probe.problems[0]}{more}): such pages will be "
        "treated as restricted, with visibility internal and readable only by people whose access could be "
        "confirmed, never public."
    )
