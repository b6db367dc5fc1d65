"""Search as a person: the principal's tokens and the filter that keeps only what it may read."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from destination_vectors.read.access import ANYONE, Principal, may_read, readable_filter
from source_confluence import components as source_access


def test_tokens_are_the_sources_tokens() -> None:
    principal = Principal(account_id="5d8a", groups=("hr-team",))
    assert principal.tokens() == [
        source_access.user_token("5d8a"),
        source_access.group_token("hr-team"),
        source_access.ANYONE,
    ], "destination and source must spell user, group and anonymous tokens alike (docs/CONTRACTS.md)"
    assert ANYONE == source_access.ANYONE


def test_filter_quotes_every_value() -> None:
    sql = readable_filter(Principal(account_id="x') OR true OR ('", groups=("it's",)))
    assert sql == "array_has_any(readers, ['user:x'') OR true OR (''', 'group:it''s', 'anonymous'])"


def test_blank_or_nul_principals_are_refused() -> None:
    with pytest.raises(ValidationError, match="account_id"):
        Principal(account_id="  ")
    with pytest.raises(ValueError, match="NUL"):
        readable_filter(Principal(account_id="a\x00b"))


def test_may_read_fails_closed_without_readers() -> None:
    someone = Principal(account_id="a")
    assert may_read(someone, ["anonymous"]) and may_read(someone, ["user:a"])
    assert not may_read(someone, None) and not may_read(someone, []) and not may_read(someone, ["group:g"])


def test_cli_as_user_replaces_visibility_and_groups_need_a_user() -> None:
    import argparse

    from destination_vectors.cli import _person, _UserError

    def options(**values: object) -> argparse.Namespace:
        return argparse.Namespace(**{"as_user": None, "as_email": None, "group": [], "visibility": None, **values})

    assert _person(options()) is None
    assert _person(options(as_user="5d8a", group=["hr"])) == {"as_user": "5d8a", "as_email": None, "groups": ("hr",)}
    with pytest.raises(_UserError, match="replaces --visibility"):
        _person(options(as_user="5d8a", visibility="public"))
    with pytest.raises(_UserError, match="needs --as-user"):
        _person(options(group=["hr"]))
    with pytest.raises(_UserError, match="account id"):
        _person(options(as_user=" "))


def test_a_person_without_an_account_reads_what_anyone_and_their_groups_may() -> None:
    unknown = Principal(groups=("eng",))  # e.g. an e-mail address no account in the memberships has
    assert unknown.tokens() == ["group:eng", ANYONE], "no user: token for a person the index does not know"
    assert may_read(unknown, ["anonymous"]) and not may_read(unknown, ["user:None", "group:hr"])
