"""Access (and, on Cloud, labels) read from Confluence in bulk (a request or two per space and per group), cached for
the read, and the `restricted` and `readers` fields it adds to pages and blog posts (fail closed)."""

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from source_confluence.component_parts.access_fetch import AccessFetcher, Getter, Problems, cql_quote
from source_confluence.component_parts.access_rule import (
    ReadGrant,
    groups_needing_members,
    path_complete,
    readers,
    restricted_levels,
)
from source_confluence.component_parts.containers import ContainerDirectory
from source_confluence.component_parts.dc_permissions import DataCenterSpacePermissions, Requester
from source_confluence.component_parts.paging import next_listing_url
from source_confluence.component_parts.restriction_lists import (
    more_than_listed,
    subject_lists,
    whole_read_restriction,
    without_ancestors,
)
from source_confluence.component_parts.tree_reconcile import container_reader, reconcile, v2_parents

RESTRICTION_EXPAND = "restrictions.read.restrictions.user,restrictions.read.restrictions.group,ancestors"
LABELS_EXPAND = "metadata.labels"
ACCESS_PAGE_SIZE = 100  # v1 caps content listings at 100 per request
MEMBERS_PAGE_SIZE = 200  # Confluence's fixed limit for group members


@dataclass
class SpaceAccess(Problems):
    """What was learnt about one space: its read grant, each page's parent and own read restriction, and why any
    of it could not be read (`problems`, each naming the request and the HTTP status)."""

    grant: ReadGrant | None = None
    parent_of: dict[str, str | None] = field(default_factory=dict)
    restriction_of: dict[str, ReadGrant] = field(default_factory=dict)
    labels_of: dict[str, list[str]] = field(default_factory=dict)
    listing_failures: list[str] = field(default_factory=list)  # a listing answer never came: labels unknown
    grant_read: bool = False


def declared_grant(entries: list[Any]) -> ReadGrant:
    """A space's readers as an admin declared them (`declared_space_readers`): group names, `user:<id>`, `anonymous`."""
    names = [str(entry).strip() for entry in entries if str(entry).strip()]
    return ReadGrant(
        frozenset(n.removeprefix("user:") for n in names if n.startswith("user:")),
        frozenset(n.removeprefix("group:") for n in names if not n.startswith("user:") and n != "anonymous"),
        "anonymous" in names,
    )


class AccessReader(AccessFetcher):
    """Reads and caches access per space and group membership per group, for the page records of one sync.

    Cloud: restrictions from CQL `/wiki/rest/api/content/search` with the `restrictions.read.restrictions.*`
    expansions, space grants from v2 `/spaces/{id}/permissions` (v2 reports no anonymous access: none is assumed),
    members from `/group/{groupId}/membersByGroupId`. Data Center: restrictions from `/rest/api/content` with the same
    expansions, space grants from `/rest/api/space/{key}?expand=permissions` (with `anonymousAccess`), members from
    `/rest/api/group/{name}/member`. Every answer that is not a 200 JSON body leaves that part unknown.

    `labels` (Cloud): the same CQL listing also expands `metadata.labels`, so labels cost no request of their own;
    with `access` off the listing expands only the labels (one request per 100 pages and blog posts)."""

    def __init__(
        self,
        get: Getter,
        *,
        cloud: bool,
        origin: str,
        site_base: str,
        blog_posts: bool = False,
        labels: bool = False,
        access: bool = True,
        request: Requester | None = None,
        declared_readers: Mapping[str, Any] | None = None,
        containers: ContainerDirectory | None = None,
    ) -> None:
        super().__init__(get, origin=origin, site_base=site_base)
        self.cloud = cloud
        self.blog_posts = blog_posts  # also list blog posts' restrictions (one more listing per space)
        self.labels, self.access = labels and cloud, access  # Data Center pages carry labels in their own listing
        self._spaces: dict[tuple[str, bool], SpaceAccess] = {}  # (space key, with access) -> its listing
        self._members: dict[str, frozenset[str] | None] = {}
        self._group_ids: dict[str, str] = {}
        self._lock = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._dc = DataCenterSpacePermissions(self, request)
        self.declared = {str(key): list(value or []) for key, value in (declared_readers or {}).items()}
        self._decided: dict[tuple[ReadGrant, tuple[ReadGrant, ...]], tuple[bool, tuple[str, ...]]] = {}
        self.containers = containers or ContainerDirectory()  # the sync's passes CONTAINERS (shared with breadcrumbs)
        self._container_restrictions: dict[str, Mapping[str, Any] | str] = {}  # read once, whatever the space

    # ---- per page ------------------------------------------------------------------------------------------------
    def page_access(self, page_id: str, space_key: str, space_id: str | None) -> tuple[bool, list[str]]:
        """(restricted, readers) of one page; anything that could not be read makes it restricted (fail closed)."""
        space = self.space(space_key, space_id)
        if space.grant is None or space.problems or not path_complete(page_id, space.parent_of):
            return True, []
        restricted, tokens = self.access_of(
            space.grant, restricted_levels(page_id, space.parent_of, space.restriction_of)
        )
        return restricted, list(tokens)

    def access_of(self, grant: ReadGrant, levels: list[ReadGrant]) -> tuple[bool, tuple[str, ...]]:
        """(restricted, readers) for a space grant and the restrictions on a path, decided once per combination (the
        pages of a subtree share one): restricted when a level restricts or when a group whose members decide who
        may read could not be listed. A whole group needs no member list: its token is exact."""
        key = (grant, tuple(levels))
        decided = self._decided.get(key)
        if decided is None:
            groups = sorted(set(grant.groups).union(*(level.groups for level in levels)))
            members = {group: self.members(group) for group in groups}
            known = {group: accounts for group, accounts in members.items() if accounts is not None}
            unknown = any(members[group] is None for group in groups_needing_members(grant, levels))
            decided = (bool(levels) or unknown, tuple(readers(grant, levels, known)))
            self._decided[key] = decided
        return decided

    def decided_tokens(self) -> set[str]:
        """Every token of every combination decided so far in this sync."""
        return {token for _, tokens in list(self._decided.values()) for token in tokens}

    # ---- per space -------------------------------------------------------------------------------------------------
    def space(self, space_key: str, space_id: str | None) -> SpaceAccess:
        """The space's access, read once per sync (workers reading other spaces do not wait for it)."""
        with self._lock_for(("space", space_key)):
            access = self.listing(space_key)
            if not access.grant_read:
                before = len(access.problems)
                access.grant = self.space_grant(space_key, space_id, access)
                access.grant_read = True
                if self.cloud and self.access and space_id and not access.problems:
                    self._reconcile_tree(space_key, space_id, access)
                if access.grant is None and space_key in self.declared:
                    unread = "; ".join(access.problems[before:]) or "no permission was returned"
                    del access.problems[before:]
                    access.grant = declared_grant(self.declared[space_key])
                    self.warn(
                        unread, f"the readers declared for {space_key} in declared_space_readers are used instead"
                    )
                for problem in access.problems:
                    self.warn(problem)
            return access

    def _reconcile_tree(self, space_key: str, space_id: str, access: SpaceAccess) -> None:
        """v1 ancestors against v2 parents, with folders and other containers as levels: see tree_reconcile."""
        unread = Problems()
        parents = v2_parents(self, space_key, space_id, unread)
        if parents is None:
            access.problems += unread.problems  # the tree cannot be checked: the whole space fails closed
            return

        read = container_reader(self, self.containers)

        def restriction(container_id: str) -> str | None:
            """The container's read restriction, read once per sync (its own route, paged to the end)."""
            if container_id not in self._container_restrictions:
                missing = Problems()
                lists = whole_read_restriction(self, container_id, missing)
                found = {"user": {"results": lists[0]}, "group": {"results": lists[1]}} if lists else None
                self._container_restrictions[container_id] = found or missing.problems[0]
            known = self._container_restrictions[container_id]
            if isinstance(known, str):
                return known
            self._note_restriction(container_id, known, access)
            return None

        for problem, consequence in reconcile(access.parent_of, parents, space_key, read, restriction):
            self.warn(problem, consequence)

    def listing(self, space_key: str, with_access: bool = True) -> SpaceAccess:
        """The space's content listing (restrictions, parents and, when wanted, labels), read once per sync;
        `with_access=False`: the labels alone."""
        key = (space_key, with_access and self.access)
        with self._lock_for(("listing" if key[1] else "labels", space_key)):
            if key not in self._spaces:
                self._spaces[key] = SpaceAccess()
                self._read_restrictions(space_key, self._spaces[key], key[1])
            return self._spaces[key]

    def labels_listing(self, space_key: str) -> SpaceAccess:
        """The listing labels come from: the shared one, or the labels alone when that one failed while reading access
        too (a 403 on the restriction expansions, say)."""
        listing = self.listing(space_key)
        return self.listing(space_key, with_access=False) if listing.listing_failures and self.access else listing

    def _lock_for(self, key: tuple[str, str]) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())

    def space_grant(self, space_key: str, space_id: str | None, access: SpaceAccess) -> ReadGrant | None:
        if self.cloud:
            return self._cloud_space_grant(space_key, space_id, access)
        return self._dc_space_grant(space_key, access)

    def restrictions_request(
        self, space_key: str, content_type: str = "page", with_access: bool = True
    ) -> tuple[str, dict[str, Any]]:
        """URL and parameters listing a space's pages (or blog posts) with their own read restrictions and their
        ancestors (and labels, when wanted on Cloud)."""
        parts = ([RESTRICTION_EXPAND] if with_access and self.access else []) + ([LABELS_EXPAND] if self.labels else [])
        expand = ",".join(parts) or RESTRICTION_EXPAND
        if self.cloud:
            cql = f'type = {content_type} and space = "{cql_quote(space_key)}"'
            return f"{self.v1_root}/content/search", {"cql": cql, "expand": expand, "limit": ACCESS_PAGE_SIZE}
        params = {"spaceKey": space_key, "type": content_type, "expand": expand, "limit": ACCESS_PAGE_SIZE}
        return f"{self.v1_root}/content", params

    def _read_restrictions(self, space_key: str, access: SpaceAccess, with_access: bool) -> None:
        for content_type in ("page", "blogpost") if self.blog_posts else ("page",):
            url, params = self.restrictions_request(space_key, content_type, with_access)
            self._read_restriction_listing(space_key, url, params, access, with_access)

    def _read_restriction_listing(
        self, space_key: str, url: str, params: Mapping[str, Any], access: SpaceAccess, with_access: bool
    ) -> None:
        failures = SpaceAccess()
        what = f"list the content of space {space_key}"
        next_url: str | None = url
        next_params: Mapping[str, Any] | None = params
        overflow: list[str] = []
        while next_url:
            body, noted = self.fetch_json(next_url, next_params, failures, what), False
            if body is None and with_access and self.cloud and failures.statuses[-1:] == [404]:
                failures.problems.pop()  # CONFCLOUD-77618: this batch again without ancestors, its pages one by one
                failures.statuses.pop()
                body, noted = (
                    self._batch_page_by_page(space_key, next_url, next_params, access, failures, overflow),
                    True,
                )
            if body is None:
                break
            for content in [] if noted else body.get("results") or []:
                self._note_content(content, access, with_access, overflow)
            next_url, next_params = next_listing_url(body, "v1", self.bases, what), None
        for content_id in overflow:  # named more than one answer lists: its own route, paged to the end
            missing = Problems()
            lists = whole_read_restriction(self, content_id, missing)
            if lists is None:
                access.parent_of.pop(content_id, None)  # its path is unknown: it and its subtree fail closed
                self.warn(missing.problems[0])
                continue
            self._note_restriction(content_id, {"user": {"results": lists[0]}, "group": {"results": lists[1]}}, access)
        access.problems += failures.problems
        access.listing_failures += failures.problems

    def _note_content(
        self, content: Mapping[str, Any], access: SpaceAccess, with_access: bool, overflow: list[str]
    ) -> None:
        page_id = str(content.get("id"))
        if self.labels:
            self._note_labels(page_id, content, access)
        if not with_access:
            return
        ancestors = content.get("ancestors") or []
        access.parent_of[page_id] = str(ancestors[-1].get("id")) if ancestors else None
        read = ((content.get("restrictions") or {}).get("read") or {}).get("restrictions") or {}
        self._note_restriction(page_id, read, access)
        if more_than_listed(read):
            overflow.append(page_id)

    def _note_restriction(self, page_id: str, read: Mapping[str, Any], access: SpaceAccess) -> None:
        user_objects, groups = subject_lists(read)
        users = frozenset(self.note_people(user_objects))
        for group in groups:
            if group.get("id"):
                self._group_ids.setdefault(str(group.get("name")), str(group["id"]))
        grant = ReadGrant(users - {""}, frozenset(str(g.get("name")) for g in groups if g.get("name")))
        if grant.restricts:
            access.restriction_of[page_id] = grant
        else:
            access.restriction_of.pop(page_id, None)

    def _batch_page_by_page(
        self,
        space_key: str,
        url: str,
        params: Mapping[str, Any] | None,
        access: SpaceAccess,
        failures: SpaceAccess,
        overflow: list[str],
    ) -> dict[str, Any] | None:
        """The batch Confluence refused with ancestors, listed again without them (ids, labels and the next link),
        then each of its pages read on its own with ancestors and restrictions; a page that still fails is left out
        of the tree (it and its subtree fail closed) with a warning naming it. Returns the bare batch (already noted),
        whose results and next link say where the listing goes on."""
        bare_url, bare_params = without_ancestors(url, params)
        body = self.fetch_json(bare_url, bare_params, failures, f"list the content of space {space_key}")
        if body is None:
            return None
        for content in body.get("results") or []:
            content_id = str(content.get("id"))
            if self.labels:
                self._note_labels(content_id, content, access)
            missing = Problems()
            one = self.fetch_json(
                f"{self.v1_root}/content/{quote(content_id, safe='')}",
                {"expand": RESTRICTION_EXPAND},
                missing,
                f"read page {content_id} ({content.get('title')!r}) of space {space_key} with its ancestors",
            )
            if one is None:
                self.warn(missing.problems[0])  # left out of the tree: it and its subtree fail closed
                continue
            self._note_content(one, access, True, overflow)
        return body

    @staticmethod
    def _note_labels(content_id: str, content: Mapping[str, Any], access: SpaceAccess) -> None:
        """Label names from `metadata.labels`; an array that may hold more than it lists is left out (its labels are
        then read one by one)."""
        array = (content.get("metadata") or {}).get("labels")
        if isinstance(array, Mapping):
            results, limit = array.get("results") or [], array.get("limit")
            if (array.get("_links") or {}).get("next") or (limit and len(results) >= int(limit)):
                return
        elif isinstance(array, list):
            results = array
        else:
            return
        access.labels_of[content_id] = [str(label.get("name")) for label in results if label.get("name")]

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
                if principal.get("type") == "user" and principal.get("id"):
                    users.add(str(principal.get("id")))
                elif principal.get("type") == "group":
                    group_ids.add(str(principal.get("id")))
            url, params = next_listing_url(body, "v2", self.bases, f"permissions of space {space_key}"), None
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
        return self._dc.grant(space_key, access)

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
        sink = Problems()
        url, params = self.members_request(group)
        accounts: set[str] = set()
        for body in self.v1_pages(url, params, sink, f"list the members of group {group}"):
            accounts |= self.note_people(body.get("results"))
        for problem in sink.problems:
            self.warn(
                problem,
                f"pages open to the whole group {group} keep its `group:` token (no person is resolved to it), "
                "pages where only some of its members may read are treated as restricted (visibility internal)",
            )
        return None if sink.problems else frozenset(accounts)
