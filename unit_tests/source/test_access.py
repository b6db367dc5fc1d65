"""The source's read-access rule on the sample site's cases (the property test covers random trees)."""

from __future__ import annotations

from source_confluence.components import (
    ANYONE,
    ReadGrant,
    groups_needing_members,
    path_complete,
    readers,
    restricted_levels,
    whole_groups,
)

ALICE, BOB, CHEN, DANA, EMEKA = "alice", "bob", "chen", "dana", "emeka"
MEMBERS = {
    "confluence-users": frozenset({ALICE, BOB, CHEN, DANA, EMEKA}),
    "hr-team": frozenset({DANA}),
    "eng-leads": frozenset({BOB, CHEN}),
    "it-admins": frozenset({EMEKA}),
}
ENG_SPACE = ReadGrant(groups=frozenset({"confluence-users"}))
OPS_SPACE = ReadGrant(groups=frozenset({"confluence-users"}), anonymous=True)
PARENT = {"home": None, "postmortems": "home", "outage": "postmortems", "security": "postmortems"}
RESTRICTION = {
    "postmortems": ReadGrant(users=frozenset({EMEKA}), groups=frozenset({"eng-leads"})),
    "security": ReadGrant(users=frozenset({CHEN})),
    "home": ReadGrant(),  # a restriction naming nobody does not restrict
}


def _readers(page: str, space: ReadGrant = ENG_SPACE) -> list[str]:
    return readers(space, restricted_levels(page, PARENT, RESTRICTION), MEMBERS)


def test_unrestricted_page_is_one_group_token_however_large_the_group() -> None:
    assert _readers("home") == ["group:confluence-users"], "the space's group may read as a whole: one token"
    company = {"confluence-users": frozenset(f"acct-{n}" for n in range(10_000))}
    assert readers(ENG_SPACE, [], company) == ["group:confluence-users"], "10,000 members still cost one token"


def test_a_user_granted_directly_gets_a_token_only_when_no_whole_group_covers_them() -> None:
    space = ReadGrant(users=frozenset({ALICE, "outsider"}), groups=frozenset({"hr-team"}))
    assert readers(space, [], MEMBERS) == ["group:hr-team", f"user:{ALICE}", "user:outsider"]
    covered = ReadGrant(users=frozenset({DANA}), groups=frozenset({"hr-team"}))
    assert readers(covered, [], MEMBERS) == ["group:hr-team"], "Dana is in hr-team: its token covers her"


def test_a_partly_allowed_group_is_expanded_only_to_the_people_in_both() -> None:
    space = ReadGrant(groups=frozenset({"eng-leads"}))
    level = ReadGrant(groups=frozenset({"confluence-users"}))
    assert whole_groups(space, [level]) == frozenset(), "neither group holds both the space grant and the level"
    assert groups_needing_members(space, [level]) == frozenset({"eng-leads", "confluence-users"})
    assert readers(space, [level], MEMBERS) == [f"user:{BOB}", f"user:{CHEN}"], "only eng-leads ∩ confluence-users"
    both = ReadGrant(groups=frozenset({"confluence-users", "eng-leads"}))
    assert readers(both, [ReadGrant(groups=frozenset({"eng-leads"}))], MEMBERS) == ["group:eng-leads"]


def test_a_child_inherits_its_parents_restriction() -> None:
    # no group token: eng-leads has no space permission of its own, so an eng-leads member the index does not know
    # may lack it (the space is granted to confluence-users); the members known at sync time are listed instead
    expected = [f"user:{BOB}", f"user:{CHEN}", f"user:{EMEKA}"]
    assert _readers("postmortems") == expected
    assert _readers("outage") == expected, "an unrestricted child is read by exactly its parent's readers"


def test_every_restricted_level_must_name_the_reader() -> None:
    assert _readers("security") == [f"user:{CHEN}"], "Bob and Emeka pass the parent's level, not the page's"


def test_anonymous_space_opens_unrestricted_pages_to_anyone_but_not_restricted_ones() -> None:
    assert _readers("home", OPS_SPACE) == [ANYONE]
    admin = readers(OPS_SPACE, [ReadGrant(groups=frozenset({"it-admins"}))], MEMBERS)
    assert admin == ["group:it-admins"], "a restricted page in an open space is for the named group, not anyone"


def test_unknown_membership_only_removes_readers() -> None:
    without_eng_leads = {k: v for k, v in MEMBERS.items() if k != "eng-leads"}
    levels = restricted_levels("outage", PARENT, RESTRICTION)
    assert readers(ENG_SPACE, levels, without_eng_leads) == [f"user:{EMEKA}"]


def test_a_user_without_space_permission_is_not_a_reader_even_when_named() -> None:
    space = ReadGrant(users=frozenset({ALICE}))
    assert readers(space, [ReadGrant(users=frozenset({ALICE, BOB}))], MEMBERS) == [f"user:{ALICE}"]


def test_path_completeness_and_cycles() -> None:
    assert path_complete("security", PARENT)
    assert not path_complete("orphan", {"orphan": "missing"}), "an unknown ancestor makes the path incomplete"
    assert not path_complete("a", {"a": "b", "b": "a"}), "a cycle is never complete"
    assert restricted_levels("a", {"a": "b", "b": "a"}, {"a": ReadGrant(users=frozenset({BOB}))}) == [
        ReadGrant(users=frozenset({BOB}))
    ]
