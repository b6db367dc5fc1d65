"""Only live v1 routes on Cloud: every REST v1 route the source calls on Cloud is a row of docs/CONTRACTS.md's table
("REST v1 routes the source calls on Cloud"), read from the stand-in's request log of whole Cloud syncs and checks."""

from __future__ import annotations

import re
from pathlib import Path

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read

from source_confluence.source import SourceConfluence
from testkit.confluence_stand_in import StandIn, load_site
from unit_tests.source.conftest import run_check

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SITE = Path(__file__).parent / "sample_site"
SECTION = "## REST v1 routes the source calls on Cloud"
V1 = "/wiki/rest/api"
ALL_ON = {"include_blog_posts": True, "include_comments": True, "include_attachments": True, "read_labels": True}
FAST = {"min_retry_seconds": 0.01, "max_retry_seconds": 0.05, "max_retries": 2}


def listed_routes() -> dict[str, re.Pattern[str]]:
    """The table's routes (`GET /group/{groupId}/membersByGroupId`) as patterns over request paths."""
    text = (ROOT / "docs" / "CONTRACTS.md").read_text()
    assert SECTION in text, f"docs/CONTRACTS.md lost its section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    routes = re.findall(r"^\| `GET (/[^`]+)` \|", section, flags=re.MULTILINE)
    assert routes, "the v1 route table of docs/CONTRACTS.md has no rows"
    return {route: re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(route)) + "$") for route in routes}


def v1_paths(paths: dict[str, int]) -> set[str]:
    """Request paths under the Cloud v1 root, on the site or through the gateway, relative to that root."""
    found = set()
    for path in paths:
        site_path = re.sub(r"^/ex/confluence/[^/]+", "", path)
        if site_path.startswith(V1 + "/"):
            found.add(site_path[len(V1) :])
    return found


def catalog_of(config: dict) -> object:
    builder = CatalogBuilder()
    for stream in SourceConfluence(config=config).discover(None, config).streams:  # type: ignore[arg-type]
        builder = builder.with_stream(stream.name, SyncMode.full_refresh)
    return builder.build()


def test_every_v1_route_called_on_cloud_is_in_the_contracts_table() -> None:
    routes = listed_routes()
    with StandIn(load_site(SAMPLE_SITE)) as server:
        classic = {"auth_type": "basic", "username": "demo@example.com", "api_token": "demo-api-token"}
        scoped = {**classic, "auth_type": "scoped_token", "api_token": "demo-scoped-token"}
        configs = [
            {"base_url": server.url, "credentials": classic, **FAST, **ALL_ON},
            {"base_url": server.url, "credentials": scoped, "api_gateway_url": server.url, **FAST, **ALL_ON},
        ]
        for config in configs:
            output = read(SourceConfluence(config=config), config, catalog_of(config))
            assert not output.errors, output.errors[0].trace.error.message
            assert run_check(config)[0] == "SUCCEEDED"
        called = v1_paths(server.stats.by_path)
    assert called, "no v1 route was called: the test no longer sees the access listing"
    unlisted = sorted(path for path in called if not any(p.match(path) for p in routes.values()))
    assert not unlisted, (
        f"the source called v1 routes on Cloud that docs/CONTRACTS.md does not list: {unlisted}; add each with its "
        "status in Atlassian's changelog and the v2 route used where one exists, or use v2"
    )


def test_the_table_parses_into_route_patterns() -> None:
    routes = listed_routes()
    assert routes["/group/{groupId}/membersByGroupId"].match("/group/1a2b/membersByGroupId")
    assert not routes["/group/{groupId}/membersByGroupId"].match("/group/1a2b/member")
    assert routes["/content/search"].match("/content/search") and not routes["/content/search"].match("/content")
