"""Confluence's read-access rule, pure: who may read a page from its space's grant and the restrictions on its path."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Confluence's read-access rule. A user may read a page iff (1) they may view the space: a space read permission given
# to them, to one of their groups, or to anonymous users; and (2) at every restricted level on the path from the root
# to the page (the page itself and each ancestor with a read restriction) they are named, directly or through one of
# their groups. A record's `readers` are the fewest tokens an index filters on: `group:<name>` for a group every member
# of which may read (kept whole, however large), `user:<account id>` (Data Center: user key) only for someone the rule
# lets read whom no such group covers, `anonymous` (anyone may). A searcher reads a record iff its `readers` share a
# token with {user:X, group:G.., anonymous}. Unknown membership or permissions only ever remove tokens.
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


def whole_groups(space: ReadGrant, levels: Sequence[ReadGrant]) -> frozenset[str]:
    """Groups every member of which may read: they hold the space permission (or the space is open to anonymous
    users) and are named at every restricted level. Such a group stays ONE `group:` token, whatever its size."""
    named = set(space.groups).union(*(level.groups for level in levels))
    return frozenset(
        g for g in named if (space.anonymous or g in space.groups) and all(g in level.groups for level in levels)
    )


def groups_needing_members(space: ReadGrant, levels: Sequence[ReadGrant]) -> frozenset[str]:
    """Groups whose members decide who else may read (an intersection): every group named by the space or a level
    that is not whole. Without their membership the readers are incomplete (fail closed)."""
    named = set(space.groups).union(*(level.groups for level in levels))
    return frozenset(named - whole_groups(space, levels))


def readers(space: ReadGrant, levels: Sequence[ReadGrant], members: Mapping[str, frozenset[str]]) -> list[str]:
    """The fewest sorted tokens naming exactly who may read a page whose space grants `space` and whose path
    carries the restrictions `levels`; `members` maps the group names whose membership is known to their accounts.

    A whole group (see `whole_groups`) is one `group:` token and its members get no token of their own. A user is
    listed (`user:`) only when the rule lets them read and no whole group covers them: someone named directly, or a
    member of a group that is only partly allowed (then only the people in both). A membership that is unknown only
    ever removes `user:` tokens (or leaves a redundant one for someone a whole group covers)."""
    if space.anonymous and not levels:
        return [ANYONE]
    whole = whole_groups(space, levels)

    def member(user: str, groups: frozenset[str]) -> bool:
        return any(user in members.get(group, ()) for group in groups)

    def named(grant: ReadGrant, user: str) -> bool:
        return user in grant.users or member(user, grant.groups)

    # Candidates come from the narrowest grant that every reader must pass (the space when nothing restricts).
    grants = list(levels) if levels else [space]

    def width(grant: ReadGrant) -> int:
        return len(grant.users) + sum(len(members.get(g, ())) for g in grant.groups - whole)

    narrowest = min(grants, key=width)
    candidates = set(narrowest.users)
    for group in narrowest.groups - whole:
        candidates |= members.get(group, frozenset())
    tokens = [group_token(group) for group in whole]
    for user in candidates:
        if member(user, whole):
            continue  # a whole group's token already lets them read
        if (space.anonymous or named(space, user)) and all(named(level, user) for level in levels):
            tokens.append(user_token(user))
    return sorted(tokens)
