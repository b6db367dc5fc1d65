"""Confluence's read-access rule, pure: who may read a page from its space's grant and the restrictions on its path."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Confluence's read-access rule. A user may read a page iff (1) they may view the space: a space read permission given
# to them, to one of their groups, or to anonymous users; and (2) at every restricted level on the path from the root
# to the page (the page itself and each ancestor with a read restriction) they are named, directly or through one of
# their groups. A record's `readers` are tokens an index filters on: `user:<account id>` (Data Center: user key),
# `group:<name>` (every member may read), `anonymous` (anyone may). A searcher reads a record iff its `readers` share
# a token with {user:X, group:G.., anonymous}. Unknown membership or permissions only ever remove tokens.
ANYONE = "anonymous"


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
