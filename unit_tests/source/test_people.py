"""People by name and Cloud ancestors, as pure pieces: mention ids, display names, look-up failures, tree walks."""

from __future__ import annotations

import requests_mock

from source_confluence.components import (
    FORMER_USER,
    UNKNOWN_USER,
    PageTree,
    PeopleDirectory,
    display_name,
    mentioned_users,
)

CLOUD = {
    "deployment": "cloud",
    "normalised_api_root": "https://acme.atlassian.net/wiki/api/v2",
    "normalised_origin": "https://acme.atlassian.net",
    "credentials": {"auth_type": "basic", "username": "u", "api_token": "t"},
    "max_retries": 0,
}


def test_mentioned_users_in_order_once_each() -> None:
    body = (
        '<p><ri:user ri:account-id="a1"/> <ac:link><ri:user ri:userkey="k2" /></ac:link>'
        '<ri:user ri:username="jdoe"/><ri:user ri:account-id="a1"/></p>'
    )
    assert mentioned_users(body) == [("account-id", "a1"), ("userkey", "k2"), ("username", "jdoe")]


def test_display_name_marks_deactivated_and_never_returns_an_id() -> None:
    assert display_name({"displayName": "Ada", "accountStatus": "active"}) == "Ada"
    assert display_name({"displayName": "Ada", "accountStatus": "inactive"}) == "Ada (deactivated)"
    assert display_name({"displayName": "", "accountStatus": "closed", "accountId": "x"}) == FORMER_USER
    assert display_name({"accountId": "5d8a"}) == UNKNOWN_USER


def test_failed_bulk_lookup_gives_placeholders_and_is_not_repeated() -> None:
    people = PeopleDirectory()
    with requests_mock.Mocker() as mock:
        route = mock.post(f"{CLOUD['normalised_api_root']}/users-bulk", status_code=403, json={"errors": []})
        first = people.names(CLOUD, [("account-id", "a1"), ("account-id", "a2")])
        second = people.names(CLOUD, [("account-id", "a1")])
    assert first == {"a1": UNKNOWN_USER, "a2": UNKNOWN_USER}, first
    assert second == {"a1": UNKNOWN_USER} and route.call_count == 1, "an id is looked up once per sync"


def test_bulk_lookup_batches_ids() -> None:
    people = PeopleDirectory()
    ids = [("account-id", f"id{n}") for n in range(300)]
    with requests_mock.Mocker() as mock:
        route = mock.post(
            f"{CLOUD['normalised_api_root']}/users-bulk",
            json={"results": [{"accountId": "id7", "displayName": "Seven", "accountStatus": "active"}]},
        )
        names = people.names(CLOUD, ids)
    assert route.call_count == 2, f"300 ids should take 2 requests of <= 250, took {route.call_count}"
    assert names["id7"] == "Seven" and names["id8"] == UNKNOWN_USER


def test_tree_lists_a_space_once_when_a_parent_is_unknown() -> None:
    tree = PageTree()
    tree.remember("3", "Rollback", "2")
    listing = {
        "results": [
            {"id": "1", "title": "Home", "parentId": None},
            {"id": "2", "title": "Runbooks", "parentId": "1"},
        ],
        "_links": {},
    }
    with requests_mock.Mocker() as mock:
        route = mock.get(f"{CLOUD['normalised_api_root']}/spaces/77/pages", json=listing)
        assert tree.ancestors(CLOUD, "77", "2") == (["Home", "Runbooks"], ["1", "2"])
        assert tree.ancestors(CLOUD, "77", "404") == ([], []), "a parent that is nowhere ends the walk"
    assert route.call_count == 1, "the space must be listed at most once per sync"
