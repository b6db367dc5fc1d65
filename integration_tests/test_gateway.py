"""Scoped API tokens through Atlassian's API gateway, against the stand-in's gateway mode (the same server answers
the site and `/ex/confluence/{cloudId}/...`; `api_gateway_url` points the source's "api.atlassian.com" at it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from integration_tests.test_source_content import ALL_ON, _expected_ids, by_stream, file_records, read_all
from testkit.confluence_stand_in import Auth, StandIn, load_site
from testkit.openapi_specs import openapi, validate
from unit_tests.source.conftest import run_check

SAMPLE_SITE = Path(__file__).parent / "sample_site"
FAST_RETRIES = {"min_retry_seconds": 0.01, "max_retry_seconds": 0.05, "max_retries": 2}
SCOPED = {"auth_type": "scoped_token", "username": "demo@example.com", "api_token": "demo-scoped-token"}


def links_of(records: list[dict[str, Any]]) -> list[str]:
    return [str(r[key]) for r in records for key in ("webui_url", "download_url") if r.get(key)]


@pytest.mark.parametrize("how", ["gateway URL pasted", "site URL with a scoped token"])
def test_scoped_token_reads_everything_through_the_gateway_with_links_on_the_site(how: str) -> None:
    site = load_site(SAMPLE_SITE)
    with StandIn(site) as server:
        base = server.gateway_url + "/wiki" if how == "gateway URL pasted" else server.url
        config = {"base_url": base, "credentials": SCOPED, "api_gateway_url": server.url, **FAST_RETRIES, **ALL_ON}
        output = read_all(config)
        paths, site_url = server.stats.by_path, server.url
    assert not output.errors, f"{how}: {output.errors[0].trace.error.message}"
    streams = by_stream(output)
    for name, ids in _expected_ids(site).items():
        assert sorted(r["id"] for r in streams.get(name, [])) == ids, f"{how}: stream {name} incomplete"
    for record in file_records(output):  # downloads went through the gateway too
        attachment = site.attachment(record.data["id"].removeprefix("att"))
        assert Path(record.file_reference.staging_file_url).read_bytes() == attachment.content, attachment.title
    api_paths = [p for p in paths if "/api/" in p or "/download/" in p]
    assert api_paths and all(p.startswith("/ex/confluence/") for p in api_paths), (
        f"{how}: requests that skipped the gateway: {[p for p in api_paths if not p.startswith('/ex/')][:5]}"
    )
    links = links_of([r for records in streams.values() for r in records])
    assert links and all(link.startswith(site_url + "/wiki/") for link in links), f"{how}: {links[:3]}"
    assert not [link for link in links if "/ex/confluence/" in link], f"{how}: a browser link on the gateway"
    if how == "site URL with a scoped token":
        assert paths.get("/_edge/tenant_info") == 1, f"tenant_info asked {paths.get('/_edge/tenant_info')} times"


def test_check_tells_a_scoped_token_on_the_site_from_a_wrong_token() -> None:
    with StandIn(load_site(SAMPLE_SITE)) as server:
        as_classic = {**SCOPED, "auth_type": "basic"}
        status, message = run_check({"base_url": server.url, "credentials": as_classic, **FAST_RETRIES})
        assert status == "FAILED" and "scope does not match" in message and "scoped_token" in message, message
        assert "not wrong" in message, message
        wrong = {**SCOPED, "api_token": "not-the-token"}
        status, message = run_check({"base_url": server.gateway_url, "credentials": wrong, **FAST_RETRIES})
        assert status == "FAILED" and "rejected the credentials" in message and "scope" not in message, message
        status, message = run_check(
            {"base_url": server.url, "credentials": SCOPED, "api_gateway_url": server.url, **FAST_RETRIES}
        )
        assert status == "SUCCEEDED" and "through Atlassian's API gateway" in message, message
    assert "demo-scoped-token" not in message


def test_check_names_the_scopes_a_token_lacks() -> None:
    with StandIn(load_site(SAMPLE_SITE), auth=Auth(scoped_token_has_scopes=False)) as server:
        status, message = run_check({"base_url": server.gateway_url, "credentials": SCOPED, **FAST_RETRIES})
    assert status == "FAILED" and "lacks a scope" in message, message
    for scope in ("read:confluence-content.all", "read:page:confluence", "read:space.permission:confluence"):
        assert scope in message, f"{scope} not named: {message}"


def test_scoped_tokens_are_refused_for_data_center_with_a_sentence() -> None:
    with StandIn(load_site(SAMPLE_SITE)) as server:
        config = {"base_url": server.dc_url, "deployment": "data_center", "credentials": SCOPED, **FAST_RETRIES}
        status, message = run_check(config)
    assert status == "FAILED" and "only with Confluence Cloud" in message and "bearer" in message, message


def test_gateway_answers_match_the_openapi_documents_with_the_sites_links() -> None:
    with StandIn(load_site(SAMPLE_SITE)) as server:
        prefix = f"/ex/confluence/{server.cloud_id}"
        v2 = openapi("openapi-v2.v3.json", f"{prefix}/wiki/api/v2", strict=False)
        v1 = openapi("swagger-v1-cloud-2021-11.json", prefix, strict=False)
        auth = ("demo@example.com", "demo-scoped-token")
        spaces = requests.get(f"{server.gateway_url}/wiki/api/v2/spaces?limit=2", auth=auth, timeout=5)
        validate(v2, spaces)
        assert spaces.json()["_links"]["base"] == server.url + "/wiki", spaces.json()["_links"]
        search = requests.get(
            f"{server.gateway_url}/wiki/rest/api/content/search?cql=type%3Dpage&limit=2", auth=auth, timeout=5
        )
        validate(v1, search)
        assert search.json()["_links"]["base"] == server.url + "/wiki", search.json()["_links"]
        refused = requests.get(f"{server.url}/wiki/api/v2/spaces", auth=auth, timeout=5)
        assert refused.status_code == 401 and "scope does not match" in refused.json()["message"], refused.text
