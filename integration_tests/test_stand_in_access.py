"""The stand-in's access endpoints look like Confluence's: restrictions, CQL search with restriction expansions,
group members, space permissions (v2 and v1 `expand=permissions`), on Cloud and at the Data Center context path.
Every answer is validated against Atlassian's OpenAPI documents; the 403 mode is checked per endpoint family."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from openapi_core import OpenAPI

from testkit.confluence_stand_in import DEFAULT_AUTH, Faults, Grant, StandIn, load_site
from testkit.openapi_specs import validate

REPO = Path(__file__).resolve().parents[1]
SAMPLE_SITE = REPO / "integration_tests" / "sample_site"
BASIC = (DEFAULT_AUTH.username, DEFAULT_AUTH.api_token)
BEARER = {"Authorization": f"Bearer {DEFAULT_AUTH.bearer_token}"}
ALICE, BOB, CHEN, DANA, EMEKA = (f"5d8a1b2c3e4f5a6b7c8d9e0{n}" for n in range(1, 6))
RESTRICTION_EXPAND = "restrictions.read.restrictions.user,restrictions.read.restrictions.group"


def _cloud(server: StandIn, path: str) -> requests.Response:
    return requests.get(f"{server.url}/wiki{path}", auth=BASIC, timeout=5)


def _dc(server: StandIn, path: str) -> requests.Response:
    return requests.get(f"{server.dc_url}{path}", headers=BEARER, timeout=5)


V1_BOTH = [
    "/rest/api/content/103006/restriction/byOperation/read",
    "/rest/api/content/103006/restriction/byOperation/read?expand=restrictions.user",
    "/rest/api/content/101001/restriction/byOperation/update",
    f"/rest/api/content?type=page&spaceKey=ENG&expand={RESTRICTION_EXPAND},ancestors&limit=5",
    f"/rest/api/content/101011?expand={RESTRICTION_EXPAND}",
    f"/rest/api/content/search?cql=space%3DENG%20and%20type%3Dpage&expand={RESTRICTION_EXPAND},ancestors&limit=4",
    '/rest/api/content/search?cql=space%20in%20("HR","OPS")&limit=50',
    # the source's bulk labels on Cloud: with the restriction listing, or alone when access is not read
    f'/rest/api/content/search?cql=type = page and space = "ENG"&expand={RESTRICTION_EXPAND},ancestors,metadata.labels',
    '/rest/api/content/search?cql=type = page and space = "ENG"&expand=metadata.labels&limit=3',
    '/rest/api/content/search?cql=type = blogpost and space = "ENG"&expand=metadata.labels',
    f'/rest/api/content/search?cql=type = blogpost and space = "ENG"&expand={RESTRICTION_EXPAND},metadata.labels',
    "/rest/api/group/eng-leads/member",
    "/rest/api/group/member?name=confluence-users&limit=2",
    "/rest/api/space/OPS?expand=permissions",
    "/rest/api/space?expand=permissions",
]


@pytest.mark.parametrize("path", V1_BOTH)
def test_v1_access_answers_match_the_swagger_document_on_cloud_and_data_center(
    sample: StandIn, specs: dict[str, OpenAPI], path: str
) -> None:
    validate(specs["v1"], _cloud(sample, path))
    validate(specs["v1-dc"], _dc(sample, path))


def test_cloud_only_group_routes_match_the_document(sample: StandIn, specs: dict[str, OpenAPI]) -> None:
    group = _cloud(sample, "/rest/api/content/103006/restriction/byOperation/read").json()["restrictions"]["group"]
    group_id = group["results"][0]["id"]
    by_id = _cloud(sample, f"/rest/api/group/by-id?id={group_id}")
    validate(specs["v1"], by_id)
    assert by_id.json()["name"] == "hr-team", f"group id {group_id} must name hr-team: {by_id.json()}"
    members = _cloud(sample, f"/rest/api/group/{group_id}/membersByGroupId")
    validate(specs["v1"], members)
    assert [u["accountId"] for u in members.json()["results"]] == [DANA], "hr-team has Dana only"
    assert _dc(sample, f"/rest/api/group/{group_id}/membersByGroupId").status_code == 404, (
        "Data Center has no group ids"
    )


def test_v2_space_permissions_match_the_document_and_page_with_cursors(
    sample: StandIn, specs: dict[str, OpenAPI]
) -> None:
    seen: list[dict] = []
    url = f"{sample.url}/wiki/api/v2/spaces/98308/permissions?limit=1"
    while url:
        response = requests.get(url, auth=BASIC, timeout=5)
        validate(specs["v2-strict"], response)
        body = response.json()
        seen += body["results"]
        nxt = body["_links"].get("next")
        url = f"{sample.url}{nxt}" if nxt else ""
        assert len(seen) < 20, "the cursor never ends"
    reads = [a["principal"] for a in seen if a["operation"] == {"key": "read", "targetType": "space"}]
    assert reads == [{"type": "user", "id": ALICE}], f"~alice is readable by Alice only, got {reads}"
    assert any(a["operation"]["key"] != "read" for a in seen), "other operations are listed too; clients filter"


def test_restrictions_are_served_as_configured(sample: StandIn) -> None:
    listed = _cloud(sample, f"/rest/api/content?spaceKey=ENG&expand={RESTRICTION_EXPAND},ancestors&limit=100").json()
    by_id = {c["id"]: c for c in listed["results"]}
    read = by_id["101009"]["restrictions"]["read"]["restrictions"]
    assert [u["accountId"] for u in read["user"]["results"]] == [EMEKA]
    assert [g["name"] for g in read["group"]["results"]] == ["eng-leads"]
    child = by_id["101010"]["restrictions"]["read"]["restrictions"]
    assert child["user"]["size"] == 0 and child["group"]["size"] == 0, "the child itself carries no restriction"
    assert [a["id"] for a in by_id["101010"]["ancestors"]] == ["101001", "101009"]
    dc = _dc(sample, "/rest/api/content/103006/restriction/byOperation/read").json()["restrictions"]
    assert [u["userKey"] for u in dc["user"]["results"]] == [ALICE], "Data Center names users by userKey"
    assert "id" not in dc["group"]["results"][0], "Data Center groups have no id"


def test_space_permissions_name_groups_users_and_anonymous(sample: StandIn) -> None:
    ops = _dc(sample, "/rest/api/space/OPS?expand=permissions").json()["permissions"]
    reads = [p for p in ops if p["operation"] == {"operation": "read", "targetType": "space"}]
    assert any(p["anonymousAccess"] for p in reads), "OPS is open to anonymous users"
    groups = [g["name"] for p in reads for g in (p.get("subjects") or {}).get("group", {}).get("results", [])]
    assert groups == ["confluence-users"]
    hr = _cloud(sample, "/rest/api/space/HR?expand=permissions").json()["permissions"]
    assert not any(p["anonymousAccess"] for p in hr), "HR is not open to anonymous users"


def test_search_pages_follow_next_links_on_both_deployments(sample: StandIn) -> None:
    for get, root in ((_cloud, f"{sample.url}/wiki"), (_dc, sample.dc_url)):
        ids: list[str] = []
        path = "/rest/api/content/search?cql=type%3Dpage&limit=4"
        while path:
            body = get(sample, path).json()
            ids += [c["id"] for c in body["results"]]
            path = body["_links"].get("next", "")
            assert body["_links"]["base"] == root
        assert ids == sorted({p.id for p in sample.site.all_pages()}, key=int), f"{root}: search missed pages"
    assert "cursor=" in _cloud(sample, "/rest/api/content/search?cql=type%3Dpage&limit=4").json()["_links"]["next"]


def test_bad_cql_and_unknown_group_are_refused(sample: StandIn) -> None:
    assert _cloud(sample, "/rest/api/content/search?cql=title~%22x%22%20or%20x").status_code == 400
    assert _cloud(sample, "/rest/api/content/search").status_code == 400
    assert _cloud(sample, "/rest/api/group/member?name=nobody").status_code == 404
    assert _dc(sample, "/rest/api/content/999/restriction/byOperation/read").status_code == 404


@pytest.mark.parametrize(
    ("family", "paths"),
    [
        ("space_permissions", ["/wiki/api/v2/spaces/98305/permissions", "/wiki/rest/api/space/ENG?expand=permissions"]),
        ("group_members", ["/wiki/rest/api/group/member?name=hr-team", "/confluence/rest/api/group/hr-team/member"]),
        (
            "restrictions",
            [
                "/wiki/rest/api/content/103006/restriction/byOperation/read",
                f"/confluence/rest/api/content?spaceKey=HR&expand={RESTRICTION_EXPAND}",
            ],
        ),
    ],
)
def test_forbidden_mode_answers_403_for_that_family_only(
    specs: dict[str, OpenAPI], family: str, paths: list[str]
) -> None:
    with StandIn(load_site(SAMPLE_SITE), faults=Faults(forbidden=frozenset({family}))) as server:
        for path in paths:
            headers = BEARER if path.startswith("/confluence") else {}
            auth = None if headers else BASIC
            response = requests.get(server.url + path, auth=auth, headers=headers, timeout=5)
            assert response.status_code == 403, f"{family}: {path} answered {response.status_code}, not 403"
        plain = requests.get(f"{server.url}/wiki/api/v2/spaces/98305/pages", auth=BASIC, timeout=5)
        assert plain.status_code == 200, f"{family}: 403 mode must leave content endpoints alone"


def test_a_restriction_change_is_served_without_a_new_version(sample: StandIn) -> None:
    site = load_site(SAMPLE_SITE)
    changed = site.with_access(site.access.with_restriction("101004", Grant(users=(BOB,))))
    with StandIn(changed) as server:
        body = requests.get(
            f"{server.url}/wiki/rest/api/content/101004?expand=version,{RESTRICTION_EXPAND}", auth=BASIC, timeout=5
        ).json()
    users = body["restrictions"]["read"]["restrictions"]["user"]["results"]
    assert [u["accountId"] for u in users] == [BOB], "the added restriction must be served"
    assert body["version"]["number"] == site.page("101004").version, "a restriction change is not a page edit"


def test_validation_is_real_for_the_access_shapes(sample: StandIn, specs: dict[str, OpenAPI]) -> None:
    response = _cloud(sample, "/rest/api/content/103006/restriction/byOperation/read")
    broken = response.json()
    broken["restrictions"]["group"]["results"][0]["type"] = "team"  # Group.type is the enum ["group"]
    response._content = json.dumps(broken).encode()
    with pytest.raises(Exception):  # noqa: B017 (openapi-core raises several types)
        validate(specs["v1"], response)


def test_an_enterprise_site_pages_its_thousands_of_members_and_long_restrictions(specs: dict[str, OpenAPI]) -> None:
    from dataclasses import replace

    from testkit.confluence_stand_in import enterprise_access, synthetic_site

    site = synthetic_site(n_pages=120, n_spaces=2, seed=5, body_paragraphs=1)
    pairs = [(page.id, page.parent_id) for page in site.all_pages()]
    access = enterprise_access(pairs, [s.key for s in site.spaces if s.type != "personal"], members=3000)
    root = next(iter(access.restrictions))
    people = access.groups[0].members
    access = replace(access, restrictions={**access.restrictions, root: Grant(users=people[:450], groups=("team-0",))})
    with StandIn(site.with_access(access)) as server:
        members: list[str] = []
        url: str | None = f"{server.dc_url}/rest/api/group/confluence-users/member?limit=1000"
        while url:
            answer = requests.get(url, headers=BEARER, timeout=5)
            validate(specs["v1-dc"], answer)
            body = answer.json()
            assert body["limit"] == 200 and body["size"] <= 200, f"member pages hold at most 200: {body['limit']}"
            members += [user["userKey"] for user in body["results"]]
            url = f"{body['_links']['base']}{body['_links']['next']}" if body["_links"].get("next") else None
        path = f"/rest/api/content/{root}"
        listed = _cloud(server, f"{path}?expand={RESTRICTION_EXPAND}").json()["restrictions"]["read"]["restrictions"]
        pages = [_cloud(server, f"{path}/restriction/byOperation/read?start={n}&limit=200") for n in (0, 200, 400)]
    assert members == list(people) and len(members) == 3000, f"{len(members)} members paged, 3,000 in the group"
    assert len(listed["user"]["results"]) == 200 and listed["user"]["limit"] == 200, "an expansion caps at 200 names"
    for answer in pages:
        validate(specs["v1"], answer)
    named = [u["accountId"] for answer in pages for u in answer.json()["restrictions"]["user"]["results"]]
    assert named == list(people[:450]), f"the by-operation route pages all 450 names: {len(named)}"
