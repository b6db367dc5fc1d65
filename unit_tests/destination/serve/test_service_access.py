"""The index service's fixed person: resolved once from an e-mail address, their groups looked up at every call."""

from __future__ import annotations

import pytest

from destination_vectors.destination import DestinationVectors
from destination_vectors.read.access import Principal
from destination_vectors.serve.service import Access, IndexService, ServiceError
from testkit.messages import catalog, page, record, state

PAGES = [
    page("1", "Deploy guide", "<p>deploy checklist</p>", readers=["group:eng"]),
    page("2", "Deploy FAQ", "<p>deploy questions</p>", readers=["anonymous"]),
]


def _sync(config, members: list[dict]) -> None:
    messages = [record(p) for p in PAGES] + [record(m, "memberships") for m in members]
    messages += [state("pages"), state("memberships")]
    list(DestinationVectors().write(config.model_dump(), catalog(["pages", "memberships"]), iter(messages)))


def _found(service: IndexService) -> set[str]:
    return {hit["page_id"] for hit in service.search("deploy", k=5, group_by="chunk")}


def test_an_email_is_resolved_at_start_and_the_groups_at_each_call(config) -> None:
    _sync(config, [{"user_id": "ann", "groups": ["eng"], "email": "ann@example.com"}])
    service = IndexService(config, Access(email="Ann@Example.com"))
    assert service.access.principal == Principal(account_id="ann"), "the account only: groups are looked up per call"
    assert "'ann' (Ann@Example.com)" in service.access.describe()
    assert _found(service) == {"1", "2"}
    _sync(config, [{"user_id": "ann", "groups": [], "email": "ann@example.com"}])
    assert _found(service) == {"2"}, "the running service kept a group the re-pull took away"
    with pytest.raises(ServiceError, match="no page with id '1'"):
        service.get_page("1")


def test_an_unknown_address_serves_what_anyone_may_read_and_says_so(config) -> None:
    _sync(config, [{"user_id": "ann", "groups": ["eng"], "email": "ann@example.com"}])
    service = IndexService(config, Access(email="nobody@example.com"))
    assert service.access.principal == Principal() and "does not know (nobody@example.com)" in service.access.describe()
    assert _found(service) == {"2"}


def test_a_site_that_hides_addresses_refuses_at_start(config) -> None:
    _sync(config, [{"user_id": "ann", "groups": ["eng"]}])
    with pytest.raises(ServiceError, match="hides e-mail addresses"):
        IndexService(config, Access(email="ann@example.com"))
