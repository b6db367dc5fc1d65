"""Who may read what on a stand-in site: groups and their members, space read permissions, page read restrictions.

Kept apart from `site.py` so that content (pages, bodies) and access (permissions) change independently. A site
without an `access.json` gets Confluence's usual defaults: global spaces readable by the `confluence-users` group
(every user of the site), a personal space by its owner, no page restrictions. Confluence's rule, which clients must
reproduce (the stand-in only serves the facts): a user may read a page iff they may view the space (directly, through
a group, or anonymously) and are named, directly or through a group, at every restricted level from the root to it.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_GROUP = "confluence-users"


@dataclass(frozen=True)
class Grant:
    """Principals named by a space read permission or a page read restriction; `anonymous` only for spaces."""

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    anonymous: bool = False

    @classmethod
    def from_json(cls, raw: Mapping[str, object]) -> Grant:
        return cls(
            users=tuple(str(u) for u in raw.get("users", ()) or ()),  # type: ignore[union-attr]
            groups=tuple(str(g) for g in raw.get("groups", ()) or ()),  # type: ignore[union-attr]
            anonymous=bool(raw.get("anonymous", False)),
        )


@dataclass(frozen=True)
class Group:
    """A Confluence group; Cloud addresses groups by id as well as by name."""

    name: str
    id: str
    members: tuple[str, ...]


def group_id_for(name: str) -> str:
    """A stable UUID-shaped id for a group name (Cloud group ids are UUIDs)."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


@dataclass(frozen=True)
class SiteAccess:
    """Groups, space read grants by space key, read restrictions by page id (only restricted pages are listed)."""

    groups: tuple[Group, ...] = ()
    spaces: Mapping[str, Grant] = field(default_factory=dict)
    restrictions: Mapping[str, Grant] = field(default_factory=dict)

    def group(self, name: str, all_users: Iterable[str]) -> Group | None:
        for group in self.groups:
            if group.name == name:
                return group
        if name == DEFAULT_GROUP:
            return Group(DEFAULT_GROUP, group_id_for(DEFAULT_GROUP), tuple(sorted(all_users)))
        return None

    def group_by_id(self, group_id: str, all_users: Iterable[str]) -> Group | None:
        users = tuple(all_users)
        for group in (*self.groups, self.group(DEFAULT_GROUP, users)):
            if group is not None and group.id == group_id:
                return group
        return None

    def space_grant(self, space_key: str, space_type: str, owner: str) -> Grant:
        if space_key in self.spaces:
            return self.spaces[space_key]
        return Grant(users=(owner,)) if space_type == "personal" else Grant(groups=(DEFAULT_GROUP,))

    def restriction(self, page_id: str) -> Grant:
        """The page's own read restriction; an empty Grant means the page itself is not restricted."""
        return self.restrictions.get(page_id, Grant())

    # ---- edits (each returns a new SiteAccess) -------------------------------------------------------------
    def with_restriction(self, page_id: str, grant: Grant | None) -> SiteAccess:
        """The page restricted to `grant` (None or an empty Grant lifts its restriction)."""
        restrictions = dict(self.restrictions)
        if grant is None or not (grant.users or grant.groups):
            restrictions.pop(page_id, None)
        else:
            restrictions[page_id] = grant
        return replace(self, restrictions=restrictions)

    def with_space_grant(self, space_key: str, grant: Grant) -> SiteAccess:
        return replace(self, spaces={**self.spaces, space_key: grant})


def load_access(path: Path) -> SiteAccess:
    """Read `<site>/access.json` (absent: the defaults). Format: integration_tests/sample_site/README.md."""
    file = Path(path) / "access.json"
    if not file.exists():
        return SiteAccess()
    raw = json.loads(file.read_text(encoding="utf-8"))
    groups = tuple(
        Group(str(g["name"]), str(g.get("id") or group_id_for(str(g["name"]))), tuple(str(m) for m in g["members"]))
        for g in raw.get("groups", [])
    )
    spaces = {str(key): Grant.from_json(grant) for key, grant in (raw.get("spaces") or {}).items()}
    restrictions = {str(page): Grant.from_json(grant) for page, grant in (raw.get("restrictions") or {}).items()}
    for page_id, grant in restrictions.items():
        if grant.anonymous:
            raise ValueError(f"access.json: page {page_id}: a read restriction cannot name anonymous users")
    return SiteAccess(groups, spaces, restrictions)


def synthetic_access(
    page_ids_and_parents: Iterable[tuple[str, str | None]],
    users: Iterable[str],
    *,
    seed: int = 0,
    restricted_fraction: float = 0.1,
    n_groups: int = 4,
) -> SiteAccess:
    """Random but reproducible access for a generated site: `n_groups` groups over `users`, about
    `restricted_fraction` of pages restricted to a group and a user (their subtrees inherit it)."""
    rng = random.Random(seed)
    people = sorted(users)
    groups = tuple(
        Group(f"team-{n}", group_id_for(f"team-{n}"), tuple(sorted(rng.sample(people, max(1, len(people) // 3)))))
        for n in range(n_groups)
    )
    restrictions: dict[str, Grant] = {}
    for page_id, _parent in page_ids_and_parents:
        if groups and people and rng.random() < restricted_fraction:
            restrictions[page_id] = Grant(users=(rng.choice(people),), groups=(rng.choice(groups).name,))
    return SiteAccess(groups=groups, restrictions=restrictions)


def enterprise_access(
    page_ids_and_parents: Iterable[tuple[str, str | None]],
    space_keys: Iterable[str],
    *,
    members: int = 5000,
    restricted_subtrees: int = 5,
    team_size: int = 50,
) -> SiteAccess:
    """Access as real sites have it: every space granted to `confluence-users` with `members` members (account ids
    `5b10ac8d82e05b22cc000000` on), and the `restricted_subtrees` largest root trees each restricted to a team of
    `team_size` (a group without a space permission of its own) and one named person."""
    parent = dict(page_ids_and_parents)

    def root_of(page_id: str) -> str:
        seen = set()
        while parent.get(page_id) is not None and page_id not in seen:
            seen.add(page_id)
            page_id = parent[page_id]  # type: ignore[assignment]
        return page_id

    sizes: dict[str, int] = {}
    for page_id in parent:
        root = root_of(page_id)
        sizes[root] = sizes.get(root, 0) + 1
    roots = sorted(sizes, key=lambda root: (-sizes[root], root))[:restricted_subtrees]
    people = [f"5b10ac8d82e05b22cc{n:06d}" for n in range(members)]
    teams = [
        Group(f"team-{n}", group_id_for(f"team-{n}"), tuple(people[n * team_size : (n + 1) * team_size]))
        for n in range(len(roots))
    ]
    company = Group(DEFAULT_GROUP, group_id_for(DEFAULT_GROUP), tuple(people))
    restrictions = {root: Grant(users=(people[-1 - n],), groups=(teams[n].name,)) for n, root in enumerate(roots)}
    spaces = {key: Grant(groups=(DEFAULT_GROUP,)) for key in space_keys}
    return SiteAccess((company, *teams), spaces, restrictions)
