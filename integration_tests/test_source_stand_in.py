"""The source against the Confluence stand-in over real HTTP: Cloud and Data Center, faults, byte-exact bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read

from source_confluence.source import SourceConfluence
from testkit.confluence_stand_in import Faults, StandIn, load_site, site_from_bodies, synthetic_site
from testkit.source_configs import stand_in_config

HERE = Path(__file__).parent
SAMPLE_SITE = HERE / "sample_site"
# ../shared sits beside the clone (CI and every dev machine); a missing folder fails the test, it never skips it.
STORAGE_FORMAT_FIXTURES = HERE.parent.parent / "shared" / "fixtures" / "storage-format"
FAST_RETRIES = {"min_retry_seconds": 0.01, "max_retry_seconds": 0.05, "max_retries": 6}
VOLATILE_FIELDS = ("webui_url",)  # holds the stand-in's random port


def config_for(server: StandIn, deployment: str, **overrides: Any) -> dict[str, Any]:
    return stand_in_config(server, deployment, **{**FAST_RETRIES, **overrides})


def read_pages(config: dict[str, Any]) -> tuple[EntrypointOutput, list[dict[str, Any]]]:
    catalog = (
        CatalogBuilder()
        .with_stream("spaces", SyncMode.full_refresh)
        .with_stream("pages", SyncMode.full_refresh)
        .build()
    )
    output = read(SourceConfluence(config=config), config, catalog)
    return output, [m.record.data for m in output.records if m.record.stream == "pages"]


@pytest.fixture(scope="module")
def sample_server() -> Iterator[StandIn]:
    with StandIn(load_site(SAMPLE_SITE)) as server:
        yield server


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_sample_site_every_page_once(sample_server: StandIn, deployment: str) -> None:
    output, pages = read_pages(config_for(sample_server, deployment))
    assert not output.errors, f"{deployment}: {output.errors}"
    ids = [page["id"] for page in pages]
    assert len(ids) == len(set(ids)), f"{deployment}: duplicated pages"
    assert sorted(ids) == sorted(p.id for p in sample_server.site.all_pages()), f"{deployment}: pages missing"
    for page in pages:
        site_root = sample_server.url + ("/wiki" if deployment == "cloud" else "/confluence")
        assert page["webui_url"] == site_root + page["webui"], f"{deployment}: webui_url wrong for {page['id']}"


def test_sample_site_matches_expected_records(sample_server: StandIn) -> None:
    config = config_for(sample_server, "cloud")
    catalog = (
        CatalogBuilder()
        .with_stream("pages", SyncMode.full_refresh)
        .with_stream("memberships", SyncMode.full_refresh)
        .build()
    )
    output = read(SourceConfluence(config=config), config, catalog)
    assert not output.errors, f"read failed: {output.errors[:1]}"
    lines = [json.loads(line) for line in (HERE / "expected_records.jsonl").read_text().splitlines()]
    strip = lambda record: {k: v for k, v in record.items() if k not in VOLATILE_FIELDS}  # noqa: E731
    for stream, key in (("pages", "id"), ("memberships", "user_id")):
        got = {m.record.data[key]: strip(m.record.data) for m in output.records if m.record.stream == stream}
        want = {line["data"][key]: strip(line["data"]) for line in lines if line["stream"] == stream}
        differing = sorted(k for k in got.keys() | want.keys() if got.get(k) != want.get(k))
        assert got == want, f"{stream} records differ from expected_records.jsonl for {differing[:5]}"


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_429_storm_on_every_fifth_request_loses_no_page(deployment: str) -> None:
    site = synthetic_site(n_pages=600, n_spaces=4, seed=1)
    with StandIn(site, faults=Faults(status_429_every=5, retry_after="9223372036854775807")) as server:
        output, pages = read_pages(config_for(server, deployment, page_size=25))
        rate_limited = server.stats.status_429_sent
    assert not output.errors, f"{deployment}: sync failed under a 429 storm: {output.errors[:1]}"
    assert rate_limited > 5, f"the stand-in sent only {rate_limited} 429s; the storm did not happen"
    assert sorted(p["id"] for p in pages) == sorted(p.id for p in site.all_pages()), f"{deployment}: pages lost to 429s"


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_5xx_burst_loses_no_page(deployment: str) -> None:
    site = synthetic_site(n_pages=300, n_spaces=3, seed=2)
    with StandIn(site, faults=Faults(status_5xx_every=6, status_5xx_burst=3, status_5xx_code=503)) as server:
        output, pages = read_pages(config_for(server, deployment, page_size=20))
        failures = server.stats.status_5xx_sent
    assert not output.errors, f"{deployment}: sync failed under 5xx bursts: {output.errors[:1]}"
    assert failures > 3, f"the stand-in sent only {failures} 5xx responses"
    assert sorted(p["id"] for p in pages) == sorted(p.id for p in site.all_pages()), f"{deployment}: pages lost to 5xx"


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_truncated_json_bodies_are_retried_and_lose_no_page(deployment: str) -> None:
    site = synthetic_site(n_pages=200, n_spaces=3, seed=3)
    with StandIn(site, faults=Faults(malformed_json_every=4)) as server:
        output, pages = read_pages(config_for(server, deployment, page_size=20))
        truncated = int(server.stats.snapshot().get("malformed_sent", 0))
    assert not output.errors, f"{deployment}: sync failed on truncated JSON: {output.errors[:1]}"
    assert truncated > 3, f"the stand-in truncated only {truncated} bodies"
    assert sorted(p["id"] for p in pages) == sorted(p.id for p in site.all_pages()), f"{deployment}: pages lost"


def test_truncated_json_on_every_request_fails_naming_path_and_cause() -> None:
    with StandIn(load_site(SAMPLE_SITE), faults=Faults(malformed_json_every=1)) as server:
        output, pages = read_pages(config_for(server, "cloud", max_retries=2))
        requests_made = server.stats.api_requests
    assert output.errors and not pages, "a body that is never valid JSON did not fail the sync"
    message = output.errors[0].trace.error.message
    assert "malformed JSON" in message and "/wiki/api/v2/spaces" in message, message
    # the spaces stream and the pages stream's parent read each list the spaces: 3 attempts each with max_retries=2
    assert requests_made == 6, f"max_retries=2 should make 2 x 3 attempts at the space list, made {requests_made}"


class _ForgedCursorStandIn(StandIn):
    """Hands out, on the first v2 page listing that has a next page, a cursor the server never issued."""

    forged = 0

    def _route_api(self, api: str, path: str, query: dict[str, list[str]], *request: Any) -> Any:
        result = super()._route_api(api, path, query, *request)
        links = result.body.get("_links", {}) if isinstance(result.body, dict) else {}
        if api == "v2" and path.endswith("/pages") and "next" in links and not self.forged:
            self.forged += 1
            links["next"] = links["next"].partition("cursor=")[0] + "cursor=bm90LWlzc3VlZA"
            result.headers.pop("Link", None)
        return result


def test_cursor_the_server_did_not_issue_fails_the_sync_naming_the_path() -> None:
    with _ForgedCursorStandIn(synthetic_site(n_pages=60, n_spaces=1, seed=4)) as server:
        # read_permissions off: access reading lists the page tree on the same path (the forgery is for the stream)
        output, _ = read_pages(config_for(server, "cloud", page_size=10, num_workers=1, read_permissions=False))
        by_path = server.stats.by_path
    assert server.forged == 1, "the stand-in did not hand out the forged cursor"
    assert output.errors, "a refused cursor did not fail the sync"
    message = output.errors[0].trace.error.message
    assert "HTTP 400 (Invalid cursor)" in message and "/wiki/api/v2/spaces/" in message and "/pages" in message, message
    assert sum(n for path, n in by_path.items() if path.endswith("/pages")) == 2, f"HTTP 400 was retried: {by_path}"


def _storage_format_fixtures() -> dict[str, str]:
    files = sorted(p for p in STORAGE_FORMAT_FIXTURES.rglob("*") if p.suffix in (".xhtml", ".html", ".xml"))
    return {str(path.relative_to(STORAGE_FORMAT_FIXTURES)): path.read_text(encoding="utf-8") for path in files}


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_every_storage_format_fixture_comes_back_byte_for_byte(deployment: str) -> None:
    bodies = _storage_format_fixtures()
    assert bodies, "no storage-format fixtures found"
    with StandIn(site_from_bodies(bodies)) as server:
        output, pages = read_pages(config_for(server, deployment, page_size=3))
    assert not output.errors, f"{deployment}: {output.errors[:1]}"
    got = {page["title"]: page["body_storage"] for page in pages}
    changed = [title for title, body in bodies.items() if got.get(title) != body]
    assert not changed, f"{deployment}: bodies altered in transit: {changed}"
