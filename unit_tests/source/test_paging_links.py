"""The link-joining rule of each API (component_parts/paging.py), against the link shapes real servers send."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from source_confluence.components import check_count, next_listing_url, v1_next_url, v2_next_url

SITE = "https://acme.atlassian.net"
GATEWAY = "https://api.atlassian.com/ex/confluence/0a1b2c3d-cloud-id"


@pytest.mark.parametrize(
    ("origin", "link", "expected"),
    [
        # v2 `next` is site-rooted (`/wiki/api/v2/...`): joined to where requests go
        (SITE, "/wiki/api/v2/spaces?cursor=abc%3D", f"{SITE}/wiki/api/v2/spaces?cursor=abc%3D"),
        (GATEWAY, "/wiki/api/v2/spaces?cursor=abc", f"{GATEWAY}/wiki/api/v2/spaces?cursor=abc"),
        # nested v2 listings seen without `/wiki`
        (SITE, "/api/v2/pages/12/labels?cursor=x", f"{SITE}/wiki/api/v2/pages/12/labels?cursor=x"),
        (GATEWAY, "/api/v2/spaces/9/permissions?cursor=x", f"{GATEWAY}/wiki/api/v2/spaces/9/permissions?cursor=x"),
        # an absolute link names the server's own host: requests still go where the config says
        (GATEWAY, f"{SITE}/wiki/api/v2/spaces?cursor=y", f"{GATEWAY}/wiki/api/v2/spaces?cursor=y"),
    ],
)
def test_v2_next_links(origin: str, link: str, expected: str) -> None:
    assert v2_next_url(origin, link) == expected


@pytest.mark.parametrize(
    ("base", "link", "expected"),
    [
        # v1 `next` is relative to `_links.base`, which already ends in /wiki on Cloud
        (
            f"{SITE}/wiki",
            "/rest/api/content/search?cql=x&cursor=c",
            f"{SITE}/wiki/rest/api/content/search?cql=x&cursor=c",
        ),
        (f"{GATEWAY}/wiki", "/rest/api/group/member?name=g", f"{GATEWAY}/wiki/rest/api/group/member?name=g"),
        # Data Center: relative to the context path; a link that repeats it is not doubled
        (
            "https://kb.example.com/confluence",
            "/rest/api/space?limit=25",
            "https://kb.example.com/confluence/rest/api/space?limit=25",
        ),
        (
            "https://kb.example.com/confluence",
            "/confluence/rest/api/space?x=1",
            "https://kb.example.com/confluence/rest/api/space?x=1",
        ),
    ],
)
def test_v1_next_links(base: str, link: str, expected: str) -> None:
    assert v1_next_url(base, link) == expected


def test_v1_offset_is_re_derived_from_the_page_not_the_servers_link() -> None:
    # Data Center capped the page at 7 of the 20 asked for and linked start=20 (Onyx #4129)
    body = {"results": [{}] * 7, "start": 0, "limit": 7, "size": 7}
    url = v1_next_url("https://kb.example.com/confluence", "/rest/api/content?limit=20&start=20", body)
    assert url.endswith("/rest/api/content?limit=20&start=7"), url


CONFIG = {"normalised_origin": SITE, "normalised_api_site_base": f"{SITE}/wiki"}


@pytest.mark.parametrize("api", ["v1", "v2"])
def test_an_empty_page_ends_the_listing_whatever_next_says(api: str) -> None:
    body: dict[str, Any] = {"results": [], "_links": {"next": "/wiki/api/v2/spaces?cursor=again"}}
    assert next_listing_url(body, api, CONFIG) is None


def test_a_listing_short_of_its_total_warns_naming_it(caplog: pytest.LogCaptureFixture) -> None:
    body = {"results": [{}] * 3, "start": 10, "totalSize": 40, "_links": {}}
    with caplog.at_level(logging.WARNING):
        assert next_listing_url(body, "v1", CONFIG, "content of space ENG") is None
    assert "content of space ENG ended after 13 of the 40 items" in caplog.text, caplog.text
    assert check_count({"results": [{}], "totalSize": 5}, "x", seen=5) is None
    assert check_count({"results": [{}], "totalSize": 6}, "cursor listing", seen=5) is not None
