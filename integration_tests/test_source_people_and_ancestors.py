"""Breadcrumbs and people by name, from the source against the stand-in over real HTTP: Cloud ancestors without a
request per page, mentions and authors resolved in bulk once per id, deactivated and unknown users as placeholders."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from integration_tests.test_source_stand_in import config_for, read_pages
from testkit.confluence_stand_in import StandIn, load_site

SAMPLE_SITE = Path(__file__).parent / "sample_site"
ROLLBACK, ON_CALL, RUNBOOKS = "101004", "101006", "101002"
NOBODY = "70121:not-a-known-account"


@pytest.fixture(scope="module")
def site():
    sample = load_site(SAMPLE_SITE)
    on_call = sample.page(ON_CALL)
    unknown_mention = f'<p>Former contractor: <ac:link><ri:user ri:account-id="{NOBODY}" /></ac:link>.</p>'
    edited = dataclasses.replace(on_call, body=on_call.body + unknown_mention)
    return dataclasses.replace(sample, pages=tuple(edited if p.id == ON_CALL else p for p in sample.pages))


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_ancestors_on_cloud_and_data_center(site, deployment: str) -> None:
    with StandIn(site) as server:
        output, pages = read_pages(config_for(server, deployment))
        by_path = server.stats.snapshot()["by_path"]
    assert not output.errors, f"{deployment}: {output.errors[:1]}"
    page = {p["id"]: p for p in pages}
    assert page[ROLLBACK]["ancestors"] == ["Engineering Home", "Runbooks", "Deploys"], page[ROLLBACK]["ancestors"]
    assert page[ROLLBACK]["ancestor_ids"] == ["101001", RUNBOOKS, "101003"], page[ROLLBACK]["ancestor_ids"]
    assert page["101001"].get("ancestors") == [], "a root page has no ancestors"
    for record in pages:
        parents = record.get("ancestor_ids") or []
        assert parents[-1:] == ([record["parent_id"]] if record.get("parent_id") else []), (
            f"{deployment}: page {record['id']}: last ancestor must be its parent"
        )
    if deployment == "cloud":
        single_page_reads = [path for path in by_path if path.startswith("/wiki/api/v2/pages/")]
        assert not single_page_reads, f"ancestors must not cost a request per page: {single_page_reads[:3]}"
        listings = {path: count for path, count in by_path.items() if path.endswith("/pages")}
        spaces = len(server.site.spaces)
        assert sum(listings.values()) <= 2 * spaces + 2, f"more than one extra listing per space: {listings}"


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_mentions_and_authors_by_name_looked_up_once(site, deployment: str) -> None:
    with StandIn(site) as server:
        output, pages = read_pages(config_for(server, deployment))
        by_path = server.stats.snapshot()["by_path"]
    assert not output.errors, f"{deployment}: {output.errors[:1]}"
    on_call = next(p for p in pages if p["id"] == ON_CALL)
    names = on_call["user_names"]
    assert names["5d8a1b2c3e4f5a6b7c8d9e03"] == "Chen Wei" and names["5d8a1b2c3e4f5a6b7c8d9e02"] == "Bob Okafor", names
    assert names["5d8a1b2c3e4f5a6b7c8d9e06"] == "Farid Haddad (deactivated)" or deployment == "data_center", names
    assert names[NOBODY] == "Unknown user", f"an unknown id must read as a placeholder: {names}"
    assert on_call["author_name"] == "Bob Okafor", on_call.get("author_name")
    for record in pages:
        assert record.get("author_name") and not record["author_name"].startswith("5d8a"), (
            f"{deployment}: page {record['id']} has no readable author name: {record.get('author_name')!r}"
        )
    if deployment == "cloud":
        bulk = by_path.get("/wiki/api/v2/users-bulk", 0)
        distinct = len({*site.users, *site.inactive_users, NOBODY})
        assert 1 <= bulk <= distinct, f"users-bulk called {bulk} times for {distinct} distinct ids: not once per id"
    else:
        lookups = sum(count for path, count in by_path.items() if path.endswith("/rest/api/user"))
        assert lookups <= len({*site.users, *site.inactive_users, NOBODY}), f"{lookups} user look-ups: repeated ids"
