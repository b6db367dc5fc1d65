"""The shared storage-format fixtures (`../shared/fixtures/storage-format/`, beside the clone): third-party Confluence
bodies that the conversion tests, the chunking tests, the embedding gate and the fidelity benchmark all read."""

from __future__ import annotations

import json

from testkit.paths import ROOT

FIXTURES = ROOT.parent / "shared" / "fixtures" / "storage-format"
SUFFIXES = (".xhtml", ".html", ".xml")
ROUNDTRIP_PAGE = "confluence-markdown-roundtrip/test-page.json"  # a REST response: the body sits inside the JSON


def file_bodies() -> list[tuple[str, str]]:
    """(path relative to FIXTURES, text) of every storage-format file, in path order; empty when the fixtures are
    missing (callers say so in their own words)."""
    return [
        (str(path.relative_to(FIXTURES)), path.read_text(encoding="utf-8"))
        for path in sorted(FIXTURES.rglob("*"))
        if path.suffix in SUFFIXES
    ]


def roundtrip_page_body() -> tuple[str, str]:
    """The storage body inside the round-trip fixture's page JSON, named `<file>#body.storage.value`."""
    page = json.loads((FIXTURES / ROUNDTRIP_PAGE).read_text(encoding="utf-8"))
    return f"{ROUNDTRIP_PAGE}#body.storage.value", page["body"]["storage"]["value"]
