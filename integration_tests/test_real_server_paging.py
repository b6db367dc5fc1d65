"""The source against the stand-in's "real server" mode (testkit/confluence_stand_in/quirks.py): every paging quirk
real Confluence servers show, on Cloud and Data Center: each page exactly once, and no hang (the number of requests
stays bounded by the listing's size)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from openapi_core import OpenAPI

from source_confluence.source import SourceConfluence
from testkit.confluence_stand_in import Quirks, StandIn, synthetic_site, with_synthetic_extras
from testkit.openapi_specs import validate
from testkit.source_configs import stand_in_config

FAST_RETRIES = {"min_retry_seconds": 0.01, "max_retry_seconds": 0.05, "max_retries": 4}
ALL_STREAMS = ("spaces", "pages", "blog_posts", "comments", "attachments")


def config_for(server: StandIn, deployment: str, **overrides: Any) -> dict[str, Any]:
    return stand_in_config(server, deployment, **{**FAST_RETRIES, **overrides})


def read_all(config: dict[str, Any], streams: tuple[str, ...] = ALL_STREAMS) -> EntrypointOutput:
    builder = CatalogBuilder()
    for name in streams:
        builder = builder.with_stream(name, SyncMode.full_refresh)
    return read(SourceConfluence(config=config), config, builder.build())


def ids_of(output: EntrypointOutput, stream: str) -> list[str]:
    return [str(m.record.data["id"]) for m in output.records if m.record.stream == stream]


def logs(output: EntrypointOutput) -> list[str]:
    return [m.log.message for m in output.logs]


def assert_each_once(output: EntrypointOutput, site: Any, deployment: str) -> None:
    assert not output.errors, f"{deployment}: {output.errors[0].trace.error.message}"
    expected = {
        "pages": sorted(p.id for p in site.all_pages()),
        "blog_posts": sorted(p.id for p in site.blog_posts),
        "comments": sorted(c.id for c in site.comments),
        "attachments": sorted(a.id.removeprefix("att") for a in site.attachments),
    }
    for stream, wanted in expected.items():
        got = [i.removeprefix("att") for i in ids_of(output, stream)]  # attachments are `att<id>`, as Confluence
        assert len(got) == len(set(got)), f"{deployment}: {stream} repeated {len(got) - len(set(got))} items"
        assert sorted(got) == wanted, f"{deployment}: {stream} missing {sorted(set(wanted) - set(got))[:5]}"


@pytest.fixture(scope="module")
def site() -> Any:
    return with_synthetic_extras(synthetic_site(n_pages=90, n_spaces=3, seed=18), seed=18)


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_empty_pages_with_next_end_every_listing_without_a_hang(site: Any, deployment: str) -> None:
    quirks = Quirks(empty_page_with_next=True, nested_v2_links_without_wiki=True)
    with StandIn(site, quirks=quirks) as server:
        output = read_all(
            config_for(
                server,
                deployment,
                page_size=20,
                include_blog_posts=True,
                include_comments=True,
                include_attachments=True,
                read_labels=True,
            )
        )
        requests_made = server.stats.api_requests
    assert_each_once(output, site, deployment)
    items = len(site.all_pages()) + len(site.blog_posts) + len(site.comments) + len(site.attachments)
    # a reader that trusted `next` after an empty page would never stop; every listing costs at most one extra page
    assert requests_made < items, f"{deployment}: {requests_made} requests for {items} items: a listing looped"
    assert any("empty page that still links a next one" in line for line in logs(output)), "the end went unnoticed"


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_capped_page_size_and_wrong_next_start_lose_nothing(site: Any, deployment: str) -> None:
    # Data Center caps at 7 whatever is asked (20) and links start + 20: following its link would skip 13 of 20
    with StandIn(site, quirks=Quirks(dc_page_cap=7)) as server:
        output = read_all(
            config_for(
                server,
                deployment,
                page_size=20,
                include_blog_posts=True,
                include_comments=True,
                include_attachments=True,
            )
        )
    assert_each_once(output, site, deployment)


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_504_on_big_pages_halves_the_page_size_and_reads_everything(site: Any, deployment: str) -> None:
    with StandIn(site, quirks=Quirks(timeout_above_limit=12)) as server:
        output = read_all(config_for(server, deployment, page_size=50), ("spaces", "pages"))
        timeouts = int(server.stats.snapshot().get("quirk_504_sent", 0))
    assert not output.errors, f"{deployment}: {output.errors[0].trace.error.message}"
    pages = ids_of(output, "pages")
    assert sorted(pages) == sorted(p.id for p in site.all_pages()) and len(pages) == len(set(pages)), deployment
    assert timeouts >= 2, f"{deployment}: the stand-in sent only {timeouts} 504s; nothing was halved"
    halvings = [line for line in logs(output) if "Reducing the page size" in line]
    assert halvings and any("from 25 to 12" in line for line in halvings), f"{deployment}: {halvings}"
    # logged once per halving, never once per request: 50 -> 25 -> 12 in each space at most
    assert len(halvings) <= 2 * len(site.spaces), f"{deployment}: {len(halvings)} halving lines"


def test_a_search_that_falls_short_of_its_total_is_a_warning_naming_the_listing(
    site: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with StandIn(site, quirks=Quirks(search_stops_after=10)) as server:
        with caplog.at_level(logging.WARNING):
            output = read_all(
                config_for(server, "data_center", page_size=5, include_comments=True), ("spaces", "comments")
            )
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] + logs(output)
    shortfall = [w for w in warnings if "totalSize" in w]
    assert shortfall, f"no count warning for a search cut at 10 items: {warnings[:5]}"
    assert "/content/search" in shortfall[0] and "type=comment" in shortfall[0], shortfall[0]
    assert f"of the {len(site.comments)} items" in shortfall[0], shortfall[0]


def test_quirk_shaped_answers_still_match_the_openapi_documents(site: Any, specs: dict[str, OpenAPI]) -> None:
    quirks = Quirks(empty_page_with_next=True, nested_v2_links_without_wiki=True, dc_page_cap=7)
    auth = ("demo@example.com", "demo-api-token")
    with StandIn(site, quirks=quirks) as server:
        space_id = requests.get(f"{server.url}/wiki/api/v2/spaces", auth=auth, timeout=5).json()["results"][0]["id"]
        nested = requests.get(f"{server.url}/wiki/api/v2/spaces/{space_id}/pages?limit=5", auth=auth, timeout=5)
        assert nested.json()["_links"]["next"].startswith("/api/v2/"), nested.json()["_links"]
        validate(specs["v2"], nested)
        last = requests.get(f"{server.url}/wiki/api/v2/spaces?limit=250", auth=auth, timeout=5)
        validate(specs["v2"], last)
        past = requests.get(server.url + last.json()["_links"]["next"], auth=auth, timeout=5)
        assert past.json()["results"] == [] and past.json()["_links"]["next"], past.json()
        validate(specs["v2"], past)
        capped = requests.get(
            f"{server.dc_url}/rest/api/content?limit=20", headers={"Authorization": "Bearer demo-pat"}, timeout=5
        )
        body = capped.json()
        assert body["limit"] == 7 and body["size"] == 7 and "start=20" in body["_links"]["next"], body["_links"]
        validate(specs["v1-dc"], capped)
