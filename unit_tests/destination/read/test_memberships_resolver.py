"""The resolver front ends call: groups added to a principal, e-mail addresses to accounts, each refusal a sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from destination_vectors.read.access import Principal
from destination_vectors.read.memberships import IdentityError, MembershipResolver
from destination_vectors.store.memberships import Member, MembershipTable
from destination_vectors.store.table import ChunkStore


@pytest.fixture
def table(tmp_path: Path) -> MembershipTable:
    return MembershipTable(ChunkStore(str(tmp_path / "lancedb"), "chunks"))


def test_groups_are_added_to_those_given_once_each(table: MembershipTable) -> None:
    table.replace([Member("ann", ("eng", "hr"))], valid_from=1, live_version=None)
    resolver = MembershipResolver(table)
    assert resolver.principal(1, Principal(account_id="ann", groups=("hr", "ops"))).groups == ("hr", "ops", "eng")
    assert resolver.principal(1, Principal(account_id="stranger")).groups == ()
    assert resolver.principal(0, Principal(account_id="ann")).groups == (), "before the first generation: no groups"
    assert resolver.principal(1, Principal(groups=("eng",))).account_id is None, "no account: nothing to look up"


def test_the_resolver_follows_a_new_generation(table: MembershipTable) -> None:
    table.replace([Member("ann", ("eng",))], valid_from=1, live_version=None)
    resolver = MembershipResolver(table)
    assert resolver.principal(1, Principal(account_id="ann")).groups == ("eng",)
    table.replace([Member("ann", ())], valid_from=2, live_version=1)
    assert resolver.principal(1, Principal(account_id="ann")).groups == ("eng",), "chunk version 1 keeps its groups"
    assert resolver.principal(2, Principal(account_id="ann")).groups == (), "the cached answer must not outlive it"


def test_email_addresses_resolve_to_one_account_or_say_why_not(table: MembershipTable) -> None:
    resolver = MembershipResolver(table)
    with pytest.raises(IdentityError, match="memberships stream was not synced"):
        resolver.resolve(1, as_email="ann@example.com")
    table.replace(
        [
            Member("ann", ("eng",), "Ann@Example.com"),
            Member("x1", (), "shared@example.com"),
            Member("x2", (), "shared@example.com"),
        ],
        valid_from=1,
        live_version=None,
    )
    assert resolver.resolve(1, as_email="ann@EXAMPLE.com") == Principal(account_id="ann"), "groups come per search"
    assert resolver.resolve(1, as_email="nobody@example.com", groups=("ops",)) == Principal(groups=("ops",))
    with pytest.raises(IdentityError, match="belongs to 2 accounts \\(x1, x2\\)"):
        resolver.resolve(1, as_email="shared@example.com")
    with pytest.raises(IdentityError, match="not an e-mail address"):
        resolver.resolve(1, as_email="ann")
    with pytest.raises(IdentityError, match="exactly one of --as-user and --as-email"):
        resolver.resolve(1, as_user="ann", as_email="ann@example.com")
    table.replace([Member("ann", ("eng",))], valid_from=2, live_version=1)
    with pytest.raises(IdentityError, match="hides e-mail addresses .*1 person in.*--as-user"):
        resolver.resolve(2, as_email="ann@example.com")
