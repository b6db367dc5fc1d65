"""The link-joining rule of each API (component_parts/paging.py), against the link shapes real servers send."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import requests

from source_confluence.components import ConfluencePagination, check_count, next_listing_url, v1_next_url, v2_next_url

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


def _response(body: dict[str, Any], url: str = "https://acme.atlassian.net/wiki/api/v2/spaces/1/pages") -> Any:
    response = requests.Response()
    response.status_code, response._content = 200, json.dumps(body).encode()
    response.url = url
    return response


def test_stream_paging_takes_the_cursor_stops_on_a_repeat_and_on_an_empty_page() -> None:
    v2 = ConfluencePagination(config={"page_size": 20}, page_size="{{ config['page_size'] }}", api="v2", parameters={})
    assert v2.get_page_size() == 20
    page = {"results": [{"id": "1"}], "_links": {"next": "/wiki/api/v2/spaces/1/pages?limit=20&cursor=abc%3D%3D"}}
    assert v2.next_page_token(_response(page), 1, None, None) == "abc=="
    assert v2.next_page_token(_response(page), 1, None, "abc==") is None, "a repeated cursor would loop forever"
    empty = {"results": [], "_links": {"next": "/wiki/api/v2/spaces/1/pages?cursor=again"}}
    assert v2.next_page_token(_response(empty), 0, None, "abc==") is None


def test_data_center_paging_counts_what_the_page_held_not_what_was_asked() -> None:
    v1 = ConfluencePagination(config={}, page_size=50, api="v1", parameters={})
    capped = {"results": [{}] * 7, "start": 14, "limit": 7, "size": 7, "_links": {"next": "/rest/api/content?start=64"}}
    assert v1.next_page_token(_response(capped, "https://kb.example.com/rest/api/content"), 7, None, 14) == 21
    last = {"results": [{}] * 3, "start": 21, "size": 3, "_links": {}}
    assert v1.next_page_token(_response(last, "https://kb.example.com/rest/api/content"), 3, None, 21) is None
