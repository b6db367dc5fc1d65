"""Fixtures the stand-in's own tests share (each module gets its own instance): Atlassian's OpenAPI documents, and the
stand-in serving the sample site."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openapi_core import OpenAPI

from testkit.confluence_stand_in import StandIn, load_site
from testkit.openapi_specs import confluence_specs

SAMPLE_SITE = Path(__file__).resolve().parent / "sample_site"


@pytest.fixture(scope="module")
def specs() -> dict[str, OpenAPI]:
    """v2 and v1 documents, each strict (no undocumented fields) and lenient (for allOf/open objects)."""
    return confluence_specs()


@pytest.fixture(scope="module")
def sample() -> Iterator[StandIn]:
    with StandIn(load_site(SAMPLE_SITE)) as server:
        yield server


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo's index, as two runs of `make demo` leave it (testkit/web_index.py): the sample site read for real by
    the source, written twice with the test embedder. Read it; do not write to it."""
    from testkit.web_index import read_site, write_twice

    folder = tmp_path_factory.mktemp("demo-index")
    with StandIn(load_site(SAMPLE_SITE)) as server:
        messages = read_site(server.url, folder)
    return write_twice(messages, folder)
