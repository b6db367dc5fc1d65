"""Atlassian's API gateway (component_parts/gateway.py): gateway URLs recognised, the URLs derived from them, links
never on the gateway, and the scopes the README lists are the ones the code names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from source_confluence.components import SCOPES_CLASSIC, SCOPES_GRANULAR, gateway_urls, link_base, pasted_gateway

ROOT = Path(__file__).resolve().parents[2]
CLOUD_ID = "5d4e3f2a-1b0c-4d9e-8f7a-6b5c4d3e2f1a"


@pytest.mark.parametrize(
    "pasted",
    [
        f"https://api.atlassian.com/ex/confluence/{CLOUD_ID}",
        f"https://api.atlassian.com/ex/confluence/{CLOUD_ID}/",
        f"https://api.atlassian.com/ex/confluence/{CLOUD_ID}/wiki",
        f"api.atlassian.com/ex/confluence/{CLOUD_ID}/wiki/api/v2/pages",
        f"https://api.atlassian.com/ex/confluence/{CLOUD_ID}/wiki/rest/api/content",
    ],
)
def test_a_pasted_gateway_url_is_recognised_whatever_api_path_it_carries(pasted: str) -> None:
    assert pasted_gateway(pasted) == (f"https://api.atlassian.com/ex/confluence/{CLOUD_ID}", CLOUD_ID)


@pytest.mark.parametrize("site", ["https://acme.atlassian.net/wiki", "acme.atlassian.net", "https://kb.example.com/ex"])
def test_a_site_url_is_not_a_gateway_url(site: str) -> None:
    assert pasted_gateway(site) is None


def test_gateway_urls_send_requests_to_the_gateway_and_links_to_the_site() -> None:
    urls = gateway_urls(f"https://api.atlassian.com/ex/confluence/{CLOUD_ID}", "https://acme.atlassian.net")
    assert urls["api_root"] == f"https://api.atlassian.com/ex/confluence/{CLOUD_ID}/wiki/api/v2"
    assert urls["api_site_base"] == f"https://api.atlassian.com/ex/confluence/{CLOUD_ID}/wiki"
    assert urls["site_base"] == "https://acme.atlassian.net/wiki"


def test_a_link_base_on_the_gateway_is_replaced_by_the_site() -> None:
    gateway = f"https://api.atlassian.com/ex/confluence/{CLOUD_ID}"
    config = {"normalised_gateway": gateway, "normalised_site_base": "https://acme.atlassian.net/wiki"}
    on_gateway = {"__confluence_links_base": gateway + "/wiki"}
    assert link_base(on_gateway, config) == "https://acme.atlassian.net/wiki"
    on_site = {"__confluence_links_base": "https://acme.atlassian.net/wiki"}
    assert link_base(on_site, {**config, "normalised_site_base": ""}) == "https://acme.atlassian.net/wiki"


def test_the_readme_lists_exactly_the_scopes_the_source_names() -> None:
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"`((?:read|search|readonly):[a-z.:-]+)`", readme))
    assert named == set(SCOPES_CLASSIC) | set(SCOPES_GRANULAR), (
        f"README scopes differ from gateway.py: only in README {sorted(named - set(SCOPES_CLASSIC + SCOPES_GRANULAR))}"
        f", only in code {sorted(set(SCOPES_CLASSIC + SCOPES_GRANULAR) - named)}"
    )
