"""Section links: Cloud and Data Center anchor rules, from small cases written for this project."""

from __future__ import annotations

import pytest

from destination_vectors.text.documents.anchors import heading_anchor, section_url

CLOUD = "https://acme.atlassian.net/wiki/spaces/ENG/pages/101004/Rollback"
DC = "https://wiki.acme.example/confluence/pages/viewpage.action?pageId=101004"


@pytest.mark.parametrize(
    ("heading", "cloud", "dc"),
    [
        ("Steps to roll back", "Steps-to-roll-back", "Rollback-Stepstorollback"),
        ("API/v2  Guide", "API/v2-Guide", "Rollback-API/v2Guide"),
        ("Release.Notes", "Release.Notes", "Rollback-Release.Notes"),
    ],
)
def test_heading_anchor_per_flavour(heading: str, cloud: str, dc: str) -> None:
    assert heading_anchor(heading, "Rollback", cloud=True) == cloud, f"Cloud anchor of {heading!r}"
    assert heading_anchor(heading, "Rollback", cloud=False) == dc, f"Data Center anchor of {heading!r}"


def test_section_url_uses_the_innermost_heading_and_the_links_flavour() -> None:
    path = ("Rollback plan", "Steps to roll back")
    assert section_url(CLOUD, "Rollback", path) == CLOUD + "#Steps-to-roll-back", "Cloud section link"
    assert section_url(DC, "Rollback", path) == DC + "#Rollback-Stepstorollback", "Data Center section link"


def test_section_url_encodes_what_a_fragment_cannot_hold() -> None:
    url = section_url(CLOUD, "Rollback", ("Étape 2: 100% <done>",))
    assert url == CLOUD + "#%C3%89tape-2:-100%25-%3Cdone%3E", f"fragment not encoded: {url}"


def test_no_heading_or_no_link_gives_the_page_link() -> None:
    assert section_url(CLOUD, "Rollback", ()) == CLOUD, "preamble chunks link to the page itself"
    assert section_url("", "Rollback", ("Steps",)) == "", "no page link, no section link"
