"""Cloud folders, whiteboards, databases and embeds as levels of the page tree, against the stand-in (real HTTP):
their read restrictions count like a page's on either v1 `ancestors` behaviour (containers listed, or left out as one
real site does), a page below an open folder is public with the folder in its breadcrumb and found `under` it, each
container costs one request (plus its restriction) however many pages sit below, and Data Center is never asked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests

from destination_vectors.read.access import Principal
from integration_tests.reliability.helpers import (
    destination_command,
    destination_config,
    searcher,
    source_command,
    source_config,
    write_in_process,
)
from source_confluence.components import AccessReader
from testkit.confluence_stand_in import DEFAULT_AUTH, StandIn, load_site
from testkit.confluence_stand_in.folder_site import CONTAINERS, FOLDER_PAGES, FOLDER_READERS, with_folders
from testkit.pipeline import write_json

SAMPLE_SITE = Path(__file__).resolve().parent / "sample_site"
BOB, DANA = "5d8a1b2c3e4f5a6b7c8d9e02", "5d8a1b2c3e4f5a6b7c8d9e04"
GROUPS = {BOB: ("confluence-users", "eng-leads"), DANA: ("confluence-users", "hr-team")}
V1_BEHAVIOURS = {"v1 lists folders": True, "v1 leaves folders out": False}


def _container_requests(by_path: dict[str, int]) -> dict[str, int]:
    """Requests to the containers' own v2 routes (folders, whiteboards, databases, embeds)."""
    routes = ("/wiki/api/v2/folders/", "/wiki/api/v2/whiteboards/", "/wiki/api/v2/databases/", "/wiki/api/v2/embeds/")
    return {path: n for path, n in by_path.items() if path.startswith(routes)}


@pytest.mark.parametrize("v1_lists_containers", V1_BEHAVIOURS.values(), ids=V1_BEHAVIOURS.keys())
def test_container_restrictions_count_like_a_pages_on_either_v1_ancestors_behaviour(v1_lists_containers: bool) -> None:
    session = requests.Session()
    session.auth = (DEFAULT_AUTH.username, DEFAULT_AUTH.api_token)
    site = with_folders(load_site(SAMPLE_SITE), v1_container_ancestors=v1_lists_containers)
    with StandIn(site) as server:
        reader = AccessReader(
            lambda url, params: session.get(url, params=params, timeout=10),
            cloud=True,
            origin=server.url,
            site_base=server.url + "/wiki",
        )
        result = {page_id: reader.page_access(page_id, "ENG", "98305") for page_id in FOLDER_PAGES}
        by_path = dict(server.stats.by_path)
    for page_id, readers in FOLDER_READERS.items():
        restricted, tokens = result[page_id]
        title = FOLDER_PAGES[page_id][0]
        if readers is None:
            assert (restricted, tokens) == (False, ["group:confluence-users"]), (
                f"{title} below open containers: {tokens}"
            )
        else:
            users = {t.removeprefix("user:") for t in tokens}
            assert restricted and users == readers, f"{title}: restricted {restricted}, readers {tokens}"
    assert not reader.warnings, f"every container could be read: {reader.warnings}"
    asked = _container_requests(by_path)
    assert sum(asked.values()) <= len(CONTAINERS) and all(n == 1 for n in asked.values()), f"per container: {asked}"
    restrictions = {p: n for p, n in by_path.items() if p.startswith("/wiki/rest/api/content/778")}
    assert sum(restrictions.values()) <= len(CONTAINERS), f"one restriction read per container: {restrictions}"


@pytest.fixture(scope="module", params=list(V1_BEHAVIOURS.values()), ids=list(V1_BEHAVIOURS.keys()))
def indexed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, int]]]:
    """The folder site read by the real source (`main.py read`), written by the destination (hash model)."""
    folder = tmp_path_factory.mktemp("folders")
    with StandIn(with_folders(load_site(SAMPLE_SITE), v1_container_ancestors=request.param)) as server:
        run = source_command("read", folder, source_config(server.url, space_keys=["ENG"]))
        assert run.returncode == 0, f"source read failed\n{run.tail()}"
        by_path = dict(server.stats.by_path)
    records = run.records()
    config = destination_config(folder)
    write_in_process(config, records)
    yield config, {r["id"]: r for r in records}, by_path


def test_public_search_never_returns_a_page_below_a_restricted_container(
    indexed: tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, int]],
) -> None:
    config, records, _ = indexed
    for page_id, (title, _, phrase) in FOLDER_PAGES.items():
        public = {hit.title for hit in searcher(config).search(phrase, k=5, mode="fts", visibility="public")}
        open_to_all = FOLDER_READERS[page_id] is None
        assert (title in public) == open_to_all, f"{title}: public search {'found' if title in public else 'missed'} it"
        assert records[page_id]["visibility"] == ("public" if open_to_all else "internal"), records[page_id]


def test_a_page_below_an_open_folder_is_public_named_by_its_breadcrumb_and_found_under_the_folder(
    indexed: tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, int]],
) -> None:
    config, records, _ = indexed
    notes, details = records["109001"], records["109003"]
    assert notes["ancestors"] == ["Engineering Home", "Team Folders"], f"breadcrumb: {notes['ancestors']}"
    assert notes["ancestor_ids"] == ["101001", "778001"], f"ancestor ids: {notes['ancestor_ids']}"
    assert details["ancestors"] == ["Engineering Home", "Team Folders", "Leads Only", "Leads Plan"], details[
        "ancestors"
    ]
    assert records["109004"]["ancestors"] == ["HR Board"], "a whiteboard at the space root heads its pages' path"
    search = searcher(config)
    public = {h.title for h in search.search("folder leads plan note", k=10, mode="fts", under="778001")}
    assert public == {"Folder Notes"}, f"public search under the open folder: {public}"
    bob = Principal(account_id=BOB, groups=GROUPS[BOB])
    as_bob = {
        h.title for h in search.search("folder leads plan note detail", k=10, mode="fts", under="778001", principal=bob)
    }
    assert as_bob == {"Folder Notes", "Leads Plan", "Leads Plan Details"}, f"Bob under the open folder: {as_bob}"
    dana = Principal(account_id=DANA, groups=GROUPS[DANA])
    as_dana = {h.title for h in search.search("leads plan detail", k=10, mode="fts", under="778002", principal=dana)}
    assert not as_dana, f"Dana is no eng-lead: {as_dana}"


def test_search_under_a_folder_id_on_the_command_line_finds_the_pages_below_it(
    indexed: tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, int]], tmp_path: Path
) -> None:
    config, _, _ = indexed
    config_file = write_json(tmp_path / "destination.json", config)
    args = ["search", "--config", str(config_file), "--under", "778001", "--mode", "fts", "--json", "folder note"]
    run = destination_command(args, tmp_path)
    assert run.returncode == 0, f"search --under 778001 failed\n{run.tail()}"
    titles = {json.loads(line)["title"] for line in run.stdout.splitlines() if line.startswith("{")}
    assert titles == {"Folder Notes"}, f"public search --under the open folder: {titles}\n{run.tail()}"


def test_each_container_costs_one_request_for_access_and_breadcrumbs_together(
    indexed: tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, int]],
) -> None:
    _, _, by_path = indexed
    asked = _container_requests(by_path)
    assert set(asked) == {f"/wiki/api/v2/{kind}s/{c.id}" for c in CONTAINERS for kind in [c.type]}, (
        f"each container read: {asked}"
    )
    assert all(n == 1 for n in asked.values()), f"a container read twice (access and breadcrumbs share): {asked}"


def test_data_center_is_never_asked_for_folders(tmp_path: Path) -> None:
    with StandIn(load_site(SAMPLE_SITE)) as server:
        run = source_command("read", tmp_path, source_config(server.dc_url, deployment="data_center"))
        assert run.returncode == 0, f"source read failed\n{run.tail()}"
        by_path = dict(server.stats.by_path)
    asked = [p for p in by_path if "/folders" in p or "/api/v2/" in p]
    assert not asked, f"Data Center was asked: {asked}"


def test_a_container_that_cannot_be_read_fails_closed_with_a_warning_naming_it() -> None:
    """Folder 778001 answers 404 (trashed): the pages below it, and below its subfolder, are restricted with nobody
    listed, one warning names the folder and its pages; the rest of the space keeps its access."""
    session = requests.Session()
    session.auth = (DEFAULT_AUTH.username, DEFAULT_AUTH.api_token)
    site = with_folders(load_site(SAMPLE_SITE), v1_container_ancestors=False)
    gone = tuple(replace(c, status="trashed") if c.id == "778001" else c for c in site.containers)
    with StandIn(replace(site, containers=gone)) as server:
        reader = AccessReader(
            lambda url, params: session.get(url, params=params, timeout=10),
            cloud=True,
            origin=server.url,
            site_base=server.url + "/wiki",
        )
        result = {page_id: reader.page_access(page_id, "ENG", "98305") for page_id in FOLDER_PAGES}
    for page_id in ("109001", "109002", "109003"):
        assert result[page_id] == (True, []), (
            f"{FOLDER_PAGES[page_id][0]} below an unreadable folder: {result[page_id]}"
        )
    assert result["109005"] == (False, ["group:confluence-users"]), "the database's page keeps its access"
    named = [w for w in reader.warnings if "folder 778001" in w]
    assert len(named) == 1 and "109001" in named[0] and "404" in named[0], f"one warning naming it: {reader.warnings}"
