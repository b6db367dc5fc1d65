"""The stand-in must look like Confluence to a client: documented shapes, paging, auth, faults, CLI.

Shapes are checked against Atlassian's own OpenAPI documents with openapi-core; a deliberately broken response is
checked to fail, so the validation is known to be real.
"""

from __future__ import annotations

import copy
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from testkit.confluence_stand_in import (
    DEFAULT_AUTH,
    Faults,
    StandIn,
    load_site,
    site_from_bodies,
    synthetic_site,
)
from testkit.confluence_stand_in.tls import make_self_signed_cert

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SAMPLE_SITE = REPO / "integration_tests" / "sample_site"
BASIC = (DEFAULT_AUTH.username, DEFAULT_AUTH.api_token)
BEARER = {"Authorization": f"Bearer {DEFAULT_AUTH.bearer_token}"}


# ---- fixtures --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def big() -> Iterator[StandIn]:
    with StandIn(synthetic_site(n_pages=301, n_spaces=4, seed=7, body_paragraphs=1)) as server:
        yield server


def _validate(spec: OpenAPI, response: requests.Response) -> None:
    assert response.status_code == 200, f"{response.url} answered {response.status_code}: {response.text[:300]}"
    spec.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))


# ---- shapes against the published documents ---------------------------------------------------------------------
def test_validator_rejects_a_response_that_breaks_the_schema(sample: StandIn, specs: dict[str, OpenAPI]) -> None:
    response = requests.get(f"{sample.url}/wiki/api/v2/pages?limit=2", auth=BASIC, timeout=5)
    broken = response.json()
    broken["results"][0]["version"]["number"] = "seven"
    response._content = json.dumps(broken).encode()
    with pytest.raises(Exception) as caught:
        _validate(specs["v2"], response)
    assert "seven" in str(caught.value) or caught.value.__cause__, "validation did not really run on the body"


V2_LIST_PATHS = [
    "/wiki/api/v2/spaces",
    "/wiki/api/v2/spaces?keys=ENG,HR&limit=1",
    "/wiki/api/v2/spaces?type=personal",
    "/wiki/api/v2/spaces?description-format=plain&include-icon=true",
    "/wiki/api/v2/pages?limit=5",
    "/wiki/api/v2/pages?body-format=storage&limit=250",
    "/wiki/api/v2/pages?space-id=98305&status=current",
    "/wiki/api/v2/spaces/98305/pages?body-format=storage",
    "/wiki/api/v2/spaces/98308/pages?depth=root",
]
V2_SINGLE_PATHS = [
    "/wiki/api/v2/spaces/98305",
    "/wiki/api/v2/pages/101004",
    "/wiki/api/v2/pages/101004?body-format=storage",
]


@pytest.mark.parametrize("path", V2_LIST_PATHS)
def test_v2_list_responses_match_the_openapi_document_exactly(
    sample: StandIn, specs: dict[str, OpenAPI], path: str
) -> None:
    response = requests.get(sample.url + path, auth=BASIC, timeout=5)
    _validate(specs["v2-strict"], response)
    assert response.json()["_links"]["base"] == f"{sample.url}/wiki", "v2 _links.base must be <site>/wiki"


@pytest.mark.parametrize("path", V2_SINGLE_PATHS)
def test_v2_single_responses_match_the_openapi_document(sample: StandIn, specs: dict[str, OpenAPI], path: str) -> None:
    _validate(specs["v2"], requests.get(sample.url + path, auth=BASIC, timeout=5))


V1_PATHS = [
    "/rest/api/space",
    "/rest/api/space?spaceKey=ENG&spaceKey=~alice",
    "/rest/api/space/HR",
    "/rest/api/content?type=page&spaceKey=ENG&expand=body.storage,version,space,ancestors,history&limit=3",
    "/rest/api/content?limit=2&start=4",
    "/rest/api/content/101004?expand=body.storage,version,ancestors",
]


@pytest.mark.parametrize("path", V1_PATHS)
def test_v1_cloud_and_data_center_responses_match_the_swagger_document(
    sample: StandIn, specs: dict[str, OpenAPI], path: str
) -> None:
    _validate(specs["v1"], requests.get(f"{sample.url}/wiki{path}", auth=BASIC, timeout=5))
    _validate(specs["v1-dc"], requests.get(f"{sample.dc_url}{path}", headers=BEARER, timeout=5))
    if "/space" in path:  # space shapes have no open objects: check no undocumented field slipped in
        _validate(specs["v1-strict"], requests.get(f"{sample.url}/wiki{path}", auth=BASIC, timeout=5))


def test_v2_page_fields_links_and_body(sample: StandIn) -> None:
    listed = requests.get(f"{sample.url}/wiki/api/v2/pages?limit=250", auth=BASIC, timeout=5).json()["results"]
    assert all(page["body"] == {} for page in listed), "v2 lists must send body {} without body-format"
    page = requests.get(f"{sample.url}/wiki/api/v2/pages/101004?body-format=storage", auth=BASIC, timeout=5).json()
    original = (SAMPLE_SITE / "ENG" / "rollback.xhtml").read_text(encoding="utf-8")
    assert page["body"]["storage"] == {"representation": "storage", "value": original}, "storage body not verbatim"
    assert (page["title"], page["parentId"], page["parentType"], page["spaceId"]) == (
        "Rollback",
        "101003",
        "page",
        "98305",
    )
    assert page["_links"]["webui"] == "/spaces/ENG/pages/101004/Rollback", "v2 webui not /spaces/KEY/pages/ID/Title"
    web = requests.get(page["_links"]["base"] + page["_links"]["webui"], timeout=5)
    assert web.status_code == 200 and "Rollback" in web.text, "base + webui must open the page"


def test_v1_ancestors_are_root_first_and_data_center_links_differ(sample: StandIn) -> None:
    query = "expand=ancestors,version,history,space"
    cloud = requests.get(f"{sample.url}/wiki/rest/api/content/101004?{query}", auth=BASIC, timeout=5).json()
    assert [a["title"] for a in cloud["ancestors"]] == ["Engineering Home", "Runbooks", "Deploys"], "ancestor order"
    assert cloud["_links"]["webui"] == "/spaces/ENG/pages/101004/Rollback", "Cloud v1 webui"
    assert cloud["version"]["by"]["accountId"] and cloud["history"]["createdDate"], "version.by / history missing"
    dc = requests.get(f"{sample.dc_url}/rest/api/content/101004?{query}", headers=BEARER, timeout=5).json()
    assert dc["_links"]["webui"] == "/pages/viewpage.action?pageId=101004", "DC webui must be viewpage.action"
    assert "userKey" in dc["version"]["by"] and "accountId" not in dc["version"]["by"], "DC users carry userKey"
    listed = requests.get(f"{sample.dc_url}/rest/api/content?limit=1", headers=BEARER, timeout=5).json()
    assert listed["_links"]["base"] == sample.dc_url and listed["_links"]["context"] == "/confluence", "DC base"
    web = requests.get(listed["_links"]["base"] + dc["_links"]["webui"], timeout=5)
    assert web.status_code == 200 and "Rollback" in web.text, "DC base + webui must open the page"
    assert requests.get(f"{sample.dc_url}/pages/viewpage.action?pageId=999", timeout=5).status_code == 404


# ---- paging ------------------------------------------------------------------------------------------------------
def _walk_v2(server: StandIn, first: str, headers: dict[str, str]) -> tuple[list[str], int]:
    ids: list[str] = []
    url: str | None = server.url + first
    calls = 0
    while url:
        response = requests.get(url, headers=headers, timeout=5)
        calls += 1
        assert response.status_code == 200, f"page {calls} of {first}: {response.status_code} {response.text[:200]}"
        body = response.json()
        ids.extend(item["id"] for item in body["results"])
        next_link = body["_links"].get("next")
        if next_link:
            assert response.headers["Link"].startswith(f'<{server.url}{next_link}>; rel="next"'), "Link header"
            assert next_link.startswith("/wiki/api/v2/"), "_links.next must be relative to the site root"
        else:
            assert 'rel="next"' not in response.headers.get("Link", ""), "Link header on the last page"
        url = urljoin(server.url, next_link) if next_link else None
    return ids, calls


@pytest.mark.parametrize("limit", [1, 7, 250])
def test_v2_cursor_paging_returns_every_page_once(big: StandIn, limit: int) -> None:
    expected = [p.id for p in big.site.all_pages()]
    ids, calls = _walk_v2(big, f"/wiki/api/v2/pages?limit={limit}", BEARER)
    assert len(ids) == len(set(ids)), f"duplicates with limit={limit}"
    assert ids == expected, f"limit={limit}: pages missing or out of order"
    assert calls == -(-len(expected) // limit), f"limit={limit}: {calls} calls"
    space = big.site.spaces[1]
    in_space, _ = _walk_v2(big, f"/wiki/api/v2/spaces/{space.id}/pages?limit={limit}", BEARER)
    assert in_space == [p.id for p in big.site.pages_in(space.key)], f"space pages wrong at limit={limit}"
    spaces, _ = _walk_v2(big, f"/wiki/api/v2/spaces?limit={limit}", BEARER)
    assert spaces == [s.id for s in big.site.spaces], f"spaces wrong at limit={limit}"


def _walk_v1(first: str, **kwargs: object) -> list[str]:
    ids: list[str] = []
    url: str | None = first
    while url:
        response = requests.get(url, timeout=5, **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 200, f"{url}: {response.status_code}"
        body = response.json()
        assert body["size"] == len(body["results"]), "v1 size must equal the number of results"
        ids.extend(item["id"] for item in body["results"])
        next_link = body["_links"].get("next")
        url = body["_links"]["base"] + next_link if next_link else None
    return ids


@pytest.mark.parametrize("limit", [1, 7, 250])
def test_v1_offset_paging_returns_every_page_once_cloud_and_dc(big: StandIn, limit: int) -> None:
    expected = [p.id for p in big.site.all_pages()]
    cloud = _walk_v1(f"{big.url}/wiki/rest/api/content?type=page&limit={limit}&expand=version", auth=BASIC)
    assert cloud == expected, f"Cloud v1 limit={limit}: missing, duplicated or reordered pages"
    dc = _walk_v1(f"{big.dc_url}/rest/api/content?type=page&limit={limit}", headers=BEARER)
    assert dc == expected, f"DC v1 limit={limit}: missing, duplicated or reordered pages"


def test_v1_caps_limit_and_says_so(big: StandIn) -> None:
    body = requests.get(f"{big.url}/wiki/rest/api/content?limit=250", auth=BASIC, timeout=5).json()
    assert body["limit"] == body["size"] == 100, "v1 must cap limit at 100 and report the cap in `limit`"
    assert "start=100" in body["_links"]["next"], "next must continue after what was actually served"


def test_cursor_the_server_did_not_issue_is_a_400(big: StandIn) -> None:
    first = requests.get(f"{big.url}/wiki/api/v2/pages?limit=2", auth=BASIC, timeout=5).json()
    cursor = first["_links"]["next"].split("cursor=")[1]
    for bad in ["garbage", cursor[:-3] + "AAA"]:
        response = requests.get(f"{big.url}/wiki/api/v2/pages?limit=2&cursor={bad}", auth=BASIC, timeout=5)
        assert response.status_code == 400, f"forged cursor {bad!r} was accepted"
        assert response.json()["errors"][0]["status"] == 400, "400 body must be Confluence's errors list"
    other = requests.get(f"{big.url}/wiki/api/v2/spaces?limit=1&cursor={cursor}", auth=BASIC, timeout=5)
    assert other.status_code == 400, "a /pages cursor must not work on /spaces"
    assert requests.get(f"{big.url}/wiki/api/v2/pages?limit=251", auth=BASIC, timeout=5).status_code == 400


# ---- auth and missing things --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/wiki/api/v2/pages", "/wiki/rest/api/content", "/confluence/rest/api/space"])
def test_bad_or_missing_credentials_get_401_without_echo(sample: StandIn, path: str) -> None:
    attempts = [
        {},
        {"auth": ("demo@example.com", "wrong-token-123")},
        {"headers": {"Authorization": "Bearer wrong-pat-456"}},
        {"headers": {"Authorization": "Basic !!notbase64"}},
    ]
    for attempt in attempts:
        response = requests.get(sample.url + path, timeout=5, **attempt)  # type: ignore[arg-type]
        assert response.status_code == 401, f"{path} with {list(attempt)} gave {response.status_code}"
        assert isinstance(response.json(), dict), "401 must carry a JSON error body"
        assert "wrong" not in response.text and "demo" not in response.text, "401 body echoes credentials"
    assert requests.get(sample.url + path, auth=BASIC, timeout=5).status_code == 200, "Basic refused"
    assert requests.get(sample.url + path, headers=BEARER, timeout=5).status_code == 200, "Bearer refused"


def test_unknown_spaces_behave_like_confluence(sample: StandIn) -> None:
    listed = requests.get(f"{sample.url}/wiki/api/v2/spaces?keys=NOPE", auth=BASIC, timeout=5)
    assert listed.status_code == 200 and listed.json()["results"] == [], "v2 unknown key must give empty results"
    assert requests.get(f"{sample.url}/wiki/rest/api/space/NOPE", auth=BASIC, timeout=5).status_code == 404
    assert requests.get(f"{sample.url}/wiki/api/v2/spaces/123", auth=BASIC, timeout=5).status_code == 404
    assert requests.get(f"{sample.url}/wiki/api/v2/pages/999999", auth=BASIC, timeout=5).status_code == 404
    personal = requests.get(f"{sample.url}/wiki/api/v2/spaces?type=personal", auth=BASIC, timeout=5).json()
    assert [s["key"] for s in personal["results"]] == ["~alice"], "personal space filter"


# ---- faults ---------------------------------------------------------------------------------------------------------
def _statuses(server: StandIn, count: int, path: str = "/wiki/api/v2/spaces") -> list[int | str]:
    seen: list[int | str] = []
    for _ in range(count):
        try:
            seen.append(requests.get(server.url + path, auth=BASIC, timeout=2).status_code)
        except requests.ConnectionError:
            seen.append("reset")
    return seen


def test_faults_fire_on_the_requested_request_numbers() -> None:
    site = load_site(SAMPLE_SITE)
    faults = Faults(
        status_429_every=3, retry_after="9223372036854775807", status_5xx_every=5, status_5xx_burst=2, reset_every=7
    )
    with StandIn(site, faults=faults) as server:
        web = requests.get(f"{server.url}/wiki/spaces/ENG/pages/101004/Rollback", timeout=5)
        assert web.status_code == 200, "web UI must not be faulted or counted as an API request"
        seen = _statuses(server, 12)
        assert seen == [200, 200, 429, 200, 503, 503, "reset", 200, 429, 503, 503, 429], f"fault schedule: {seen}"
        rate_limited = requests.get(f"{server.url}/wiki/rest/api/space", auth=BASIC, timeout=5)  # request 13
        assert rate_limited.status_code == 200
        stats = server.stats
        assert (stats.status_429_sent, stats.status_5xx_sent, stats.resets) == (3, 4, 1), stats.snapshot()
        assert stats.api_requests == 13 and stats.by_path["/wiki/api/v2/spaces"] == 12, stats.snapshot()


def test_429_carries_retry_after_verbatim_and_rate_limit_headers() -> None:
    with StandIn(load_site(SAMPLE_SITE), faults=Faults(status_429_every=1, retry_after="9223372036854775807")) as s:
        response = requests.get(f"{s.url}/wiki/api/v2/pages", auth=BASIC, timeout=5)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "9223372036854775807", "Retry-After must be sent verbatim"
    for header in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-NearLimit"):
        assert header in response.headers, f"429 lacks {header}"


def test_slow_malformed_and_latency_faults() -> None:
    faults = Faults(slow_every=2, slow_seconds=0.6, malformed_json_every=3, latency_ms=30)
    with StandIn(load_site(SAMPLE_SITE), faults=faults) as server:
        started = time.monotonic()
        assert requests.get(f"{server.url}/wiki/api/v2/pages", auth=BASIC, timeout=5).json()["results"]
        assert time.monotonic() - started >= 0.03, "latency_ms not applied"
        with pytest.raises(requests.ReadTimeout):
            requests.get(f"{server.url}/wiki/api/v2/pages", auth=BASIC, timeout=0.3)
        malformed = requests.get(f"{server.url}/wiki/api/v2/pages", auth=BASIC, timeout=5)
        assert malformed.status_code == 200, "malformed JSON must come with a 200"
        with pytest.raises(ValueError):
            malformed.json()


# ---- bodies, edits, sites -------------------------------------------------------------------------------------------
def test_every_storage_fixture_comes_back_byte_for_byte() -> None:
    files = sorted(
        p for p in (SHARED / "fixtures" / "storage-format").rglob("*") if p.suffix in (".xhtml", ".xml", ".html")
    )
    assert len(files) >= 20, "fixture corpus not found"
    bodies = {str(p.relative_to(SHARED)): p.read_bytes().decode("utf-8") for p in files}
    with StandIn(site_from_bodies(bodies)) as server:
        served = {
            page["title"]: page["body"]["storage"]["value"]
            for page in requests.get(
                f"{server.url}/wiki/api/v2/pages?body-format=storage&limit=250", auth=BASIC, timeout=5
            ).json()["results"]
        }
        v1 = requests.get(
            f"{server.dc_url}/rest/api/content?expand=body.storage&limit=100", headers=BEARER, timeout=5
        ).json()["results"]
    assert served == bodies, "v2 changed a body"
    assert {page["title"]: page["body"]["storage"]["value"] for page in v1} == bodies, "v1 changed a body"


def test_swapping_the_site_between_syncs(sample: StandIn) -> None:
    original = sample.site
    try:
        sample.site = original.with_page_edited("101004", body="<p>new rollback text</p>", when="2025-01-01T00:00:00Z")
        page = requests.get(f"{sample.url}/wiki/api/v2/pages/101004?body-format=storage", auth=BASIC, timeout=5).json()
        assert page["version"]["number"] == original.page("101004").version + 1, "edit must bump the version"
        assert page["body"]["storage"]["value"] == "<p>new rollback text</p>", "edited body not served"
        sample.site = original.without_page("101003")
        moved = requests.get(f"{sample.url}/wiki/api/v2/pages/101004", auth=BASIC, timeout=5).json()
        assert moved["parentId"] == "101002", "children of a deleted page move up to its parent"
    finally:
        sample.site = original


def test_synthetic_site_is_deterministic_and_varied() -> None:
    first, again = synthetic_site(200, seed=3), synthetic_site(200, seed=3)
    assert first.pages == again.pages and first.spaces == again.spaces, "same seed must give the same site"
    assert synthetic_site(200, seed=4).pages != first.pages, "a different seed must change the site"
    assert [s.type for s in first.spaces].count("personal") == 1 and first.spaces[-1].key.startswith("~")
    bodies = " ".join(p.body for p in first.pages)
    assert "<![CDATA[" in bodies and "<table>" in bodies and "<h2>" in bodies, "bodies lack code/tables/headings"
    assert max(len(first.ancestors(p)) for p in first.pages) >= 2, "no nesting"


def test_sample_site_has_the_promised_shape() -> None:
    site = load_site(SAMPLE_SITE)
    assert {s.key for s in site.spaces} >= {"ENG", "OPS", "HR", "~alice"} and 15 <= len(site.pages) <= 30
    rollback = next(p for p in site.pages if p.title == "Rollback")
    assert [a.title for a in site.ancestors(rollback)] == ["Engineering Home", "Runbooks", "Deploys"]
    everything = " ".join(p.body for p in site.pages)
    for construct in (
        'ac:name="toc"',
        'ac:name="status"',
        "ri:user",
        "ri:attachment",
        "ri:page",
        "ac:task-list",
        'ac:name="expand"',
        'ac:name="warning"',
        'ac:name="info"',
        "<![CDATA[",
    ):
        assert construct in everything, f"sample site lacks {construct}"


# ---- TLS and CLI ----------------------------------------------------------------------------------------------------
def test_https_with_a_self_signed_certificate(tmp_path: Path) -> None:
    cert, key = make_self_signed_cert(tmp_path)
    with StandIn(load_site(SAMPLE_SITE), tls=(str(cert), str(key))) as server:
        assert server.url.startswith("https://127.0.0.1:")
        response = requests.get(f"{server.url}/wiki/api/v2/spaces", auth=BASIC, verify=str(cert), timeout=5)
        assert response.status_code == 200, "HTTPS request with the generated CA failed"
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{server.url}/wiki/api/v2/spaces", auth=BASIC, timeout=5)


def test_cli_prints_its_address_serves_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "testkit.confluence_stand_in",
            "--site",
            str(SAMPLE_SITE),
            "--status-429-every",
            "2",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline())
        assert ready["dc_url"] == ready["url"] + "/confluence", f"bad ready line {ready}"
        first = requests.get(f"{ready['url']}/wiki/api/v2/spaces", headers=BEARER, timeout=5)
        second = requests.get(f"{ready['url']}/wiki/api/v2/spaces", headers=BEARER, timeout=5)
        assert (first.status_code, second.status_code) == (200, 429), "CLI did not apply --status-429-every"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0, "CLI must exit 0 on SIGTERM"
        assert process.stdout.read() == "", "CLI printed more than its one JSON line"
        assert process.stderr is not None and process.stderr.read() == "", "CLI logged without --verbose"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_stats_snapshot_is_plain_data(sample: StandIn) -> None:
    # a request of its own: the count must not depend on which tests of the shared server ran first
    assert requests.get(f"{sample.url}/wiki/api/v2/spaces", auth=BASIC, timeout=5).ok, "the stand-in refused a read"
    snapshot = copy.deepcopy(sample.stats.snapshot())
    assert json.dumps(snapshot) and snapshot["api_requests"] >= 1, "stats snapshot must be JSON-able"
