"""The stand-in's user look-ups look like Confluence's: Cloud v2 `POST /users-bulk`, Cloud v1 `/user/bulk` and
`/user?accountId=`, Data Center `/rest/api/user?key=`/`?username=`; every answer validated against Atlassian's
OpenAPI documents. Unknown ids are left out of bulk answers; a deactivated account is served as inactive."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from openapi_core import OpenAPI

from testkit.confluence_stand_in import DEFAULT_AUTH, StandIn, load_site
from testkit.openapi_specs import validate

REPO = Path(__file__).resolve().parents[1]
BASIC = (DEFAULT_AUTH.username, DEFAULT_AUTH.api_token)
BEARER = {"Authorization": f"Bearer {DEFAULT_AUTH.bearer_token}"}
BOB, CHEN = "5d8a1b2c3e4f5a6b7c8d9e02", "5d8a1b2c3e4f5a6b7c8d9e03"
GONE = "5d8a1b2c3e4f5a6b7c8d9e77"  # deactivated in this test's site
NOBODY = "70121:00000000-unknown"


@pytest.fixture(scope="module")
def server() -> Iterator[StandIn]:
    site = load_site(REPO / "integration_tests" / "sample_site")
    site = dataclasses.replace(site, inactive_users={GONE: "Gail Former"})
    with StandIn(site) as stand_in:
        yield stand_in


def test_v2_users_bulk(server: StandIn, specs: dict[str, OpenAPI]) -> None:
    response = requests.post(
        f"{server.url}/wiki/api/v2/users-bulk", json={"accountIds": [BOB, NOBODY, GONE, BOB]}, auth=BASIC, timeout=5
    )
    validate(specs["v2-strict"], response)
    by_id = {user["accountId"]: user for user in response.json()["results"]}
    assert set(by_id) == {BOB, GONE}, f"unknown ids must be left out, duplicates answered once: {sorted(by_id)}"
    assert by_id[BOB]["displayName"] == "Bob Okafor" and by_id[BOB]["accountStatus"] == "active", by_id[BOB]
    assert by_id[GONE]["accountStatus"] == "inactive", f"deactivated account not marked: {by_id[GONE]}"


def test_v2_users_bulk_refuses_bad_bodies_and_get(server: StandIn) -> None:
    url = f"{server.url}/wiki/api/v2/users-bulk"
    assert requests.post(url, json={"ids": [BOB]}, auth=BASIC, timeout=5).status_code == 400, "missing accountIds"
    assert requests.post(url, data=b"not json", auth=BASIC, timeout=5).status_code == 400, "body not JSON"
    assert requests.get(url, auth=BASIC, timeout=5).status_code == 405, "users-bulk is POST only"
    page = requests.get(f"{server.url}/wiki/api/v2/pages/101006", auth=BASIC, timeout=5)
    assert page.status_code == 200, "a GET after POSTs on the same server must still be answered"


def test_v1_cloud_user_bulk_and_single(server: StandIn, specs: dict[str, OpenAPI]) -> None:
    response = requests.get(
        f"{server.url}/wiki/rest/api/user/bulk",
        params=[("accountId", BOB), ("accountId", NOBODY), ("accountId", CHEN)],
        auth=BASIC,
        timeout=5,
    )
    validate(specs["v1"], response)
    names = [user["displayName"] for user in response.json()["results"]]
    assert names == ["Bob Okafor", "Chen Wei"], f"bulk answer wrong: {names}"
    single = requests.get(f"{server.url}/wiki/rest/api/user", params={"accountId": CHEN}, auth=BASIC, timeout=5)
    validate(specs["v1"], single)
    assert single.json()["displayName"] == "Chen Wei", single.json()
    missing = requests.get(f"{server.url}/wiki/rest/api/user", params={"accountId": NOBODY}, auth=BASIC, timeout=5)
    assert missing.status_code == 404, f"unknown account must be 404, got {missing.status_code}"


def test_dc_user_by_key_and_username(server: StandIn, specs: dict[str, OpenAPI]) -> None:
    by_key = requests.get(f"{server.dc_url}/rest/api/user", params={"key": BOB}, headers=BEARER, timeout=5)
    validate(specs["v1-dc"], by_key)
    user = by_key.json()
    assert user["displayName"] == "Bob Okafor" and user["userKey"] == BOB, user
    by_name = requests.get(
        f"{server.dc_url}/rest/api/user", params={"username": user["username"]}, headers=BEARER, timeout=5
    )
    validate(specs["v1-dc"], by_name)
    assert by_name.json()["userKey"] == BOB, by_name.json()
    missing = requests.get(f"{server.dc_url}/rest/api/user", params={"key": NOBODY}, headers=BEARER, timeout=5)
    assert missing.status_code == 404, f"unknown key must be 404, got {missing.status_code}"
    bulk = requests.get(f"{server.dc_url}/rest/api/user/bulk", params={"accountId": BOB}, headers=BEARER, timeout=5)
    assert bulk.status_code == 404, "Data Center has no /user/bulk"
