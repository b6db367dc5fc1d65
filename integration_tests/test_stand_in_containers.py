"""The stand-in's Cloud containers (folders, whiteboards, databases, embeds) look like Confluence's: their v2 routes,
pages' `parentType`, v1 `ancestors` with containers listed (`type: folder`) or left out (`v1_container_ancestors`),
and a container's read restriction by the v1 by-operation route, each validated against Atlassian's documents."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from testkit.confluence_stand_in import DEFAULT_AUTH, StandIn, load_site
from testkit.confluence_stand_in.containers import Container
from testkit.confluence_stand_in.folder_site import CONTAINERS, with_folders
from testkit.openapi_specs import confluence_specs, validate

SAMPLE_SITE = Path(__file__).resolve().parent / "sample_site"
BASIC = (DEFAULT_AUTH.username, DEFAULT_AUTH.api_token)
SPECS = confluence_specs()
ANCESTORS = "ancestors,restrictions.read.restrictions.user,restrictions.read.restrictions.group"


@pytest.fixture(scope="module", params=[True, False], ids=["v1 lists folders", "v1 leaves folders out"])
def server(request: pytest.FixtureRequest) -> Iterator[StandIn]:
    with StandIn(with_folders(load_site(SAMPLE_SITE), v1_container_ancestors=request.param)) as running:
        yield running


def _get(server: StandIn, path: str, **params: object) -> requests.Response:
    return requests.get(f"{server.url}/wiki{path}", params=params, auth=BASIC, timeout=5)


@pytest.mark.parametrize("container", CONTAINERS, ids=[c.type + " " + c.id for c in CONTAINERS])
def test_each_container_route_answers_in_the_documents_shape(server: StandIn, container: Container) -> None:
    response = _get(server, f"/api/v2/{container.type}s/{container.id}")
    validate(SPECS["v2"], response)
    body = response.json()
    assert (body["id"], body["type"], body["title"]) == (container.id, container.type, container.title), body
    assert body.get("parentId") == container.parent_id, f"parent: {body}"
    other = "folders" if container.type != "folder" else "whiteboards"
    wrong = _get(server, f"/api/v2/{other}/{container.id}")
    assert wrong.status_code == 404, f"a {container.type} is not found by the {other} route: {wrong.status_code}"


def test_pages_carry_the_parent_type_of_their_container(server: StandIn) -> None:
    response = _get(server, "/api/v2/spaces/98305/pages", limit=250)
    validate(SPECS["v2-strict"], response)
    kinds = {p["id"]: p.get("parentType") for p in response.json()["results"]}
    assert (kinds["109001"], kinds["109003"], kinds["109004"], kinds["109006"]) == (
        "folder",
        "page",
        "whiteboard",
        "embed",
    ), kinds
    assert "parentType" not in next(p for p in response.json()["results"] if p["id"] == "101001"), "root: no key"


def test_v1_ancestors_list_containers_or_leave_them_out_as_switched(server: StandIn) -> None:
    cql = 'type = page and space = "ENG"'
    response = _get(server, "/rest/api/content/search", cql=cql, expand=ANCESTORS, limit=100)
    validate(SPECS["v1"], response)
    chain = {c["id"]: [(a["id"], a["type"]) for a in c["ancestors"]] for c in response.json()["results"]}
    if server.site.v1_container_ancestors:
        expected = [("101001", "page"), ("778001", "folder"), ("778002", "folder"), ("109002", "page")]
    else:
        expected = [("101001", "page"), ("109002", "page")]
    assert chain["109003"] == expected, f"v1 ancestors of Leads Plan Details: {chain['109003']}"


def test_a_containers_read_restriction_is_served_by_the_by_operation_route(server: StandIn) -> None:
    response = _get(server, "/rest/api/content/778002/restriction/byOperation/read")
    validate(SPECS["v1"], response)
    groups = [g["name"] for g in response.json()["restrictions"]["group"]["results"]]
    assert groups == ["eng-leads"], f"folder 778002 is restricted to eng-leads: {groups}"
    open_folder = _get(server, "/rest/api/content/778001/restriction/byOperation/read")
    validate(SPECS["v1"], open_folder)
    assert not open_folder.json()["restrictions"]["group"]["results"], "folder 778001 is open"


def test_a_container_below_an_unknown_parent_is_refused_when_the_site_is_built() -> None:
    site = load_site(SAMPLE_SITE)
    lost = Container(id="778999", space_key="ENG", type="folder", title="Lost", parent_id="999")
    with pytest.raises(ValueError, match="unknown parent 999"):
        replace(site, containers=(lost,))
