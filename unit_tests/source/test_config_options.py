"""Each config option changes what the source does: legacy config, auth, spaces, visibility, caps, headers, timeouts."""

from typing import Any

import pytest

from source_confluence.source import SourceConfluence
from unit_tests.source.conftest import all_output_text, cloud_config, dc_config, page_records, run_check, run_read
from unit_tests.source.fake_confluence import SECRET_TOKEN, USERNAME, FakeConfluence


def _site(fake: FakeConfluence) -> None:
    fake.add_space("ENG", n_pages=4)
    fake.add_space("HR", n_pages=2)
    fake.add_space("~alice", type="personal", n_pages=3)


def _space_keys(records: list[dict[str, Any]]) -> set[str]:
    return {record["space_key"] for record in records}


def test_legacy_airbyte_config_works_unchanged(fake: FakeConfluence) -> None:
    _site(fake)
    legacy = {
        "domain_name": "acme.atlassian.net",
        "email": USERNAME,
        "api_token": SECRET_TOKEN,
        "min_retry_seconds": 0.001,
    }
    output = run_read(legacy)
    assert not output.errors, f"legacy config failed: {output.errors}"
    assert len(page_records(output)) == len(fake.pages), "legacy config did not read every page"


@pytest.mark.parametrize(
    "base_url", ["acme.atlassian.net", "https://acme.atlassian.net/wiki", "https://acme.atlassian.net/wiki/"]
)
def test_cloud_base_url_spellings_read_the_same_site(fake: FakeConfluence, base_url: str) -> None:
    _site(fake)
    output = run_read(cloud_config(fake, base_url=base_url))
    assert len(page_records(output)) == len(fake.pages), f"base_url {base_url!r} did not read the site"
    assert all("/wiki/wiki" not in r.url for r in fake.requests), "a request went to /wiki/wiki"


def test_bearer_credentials_are_sent(fake: FakeConfluence) -> None:
    _site(fake)
    output = run_read(dc_config(fake))
    assert fake.requests[0].headers["Authorization"].startswith("Bearer "), "bearer token not sent"
    assert len(page_records(output)) == len(fake.pages), "bearer auth read failed"


def test_space_keys_limit_the_spaces(fake: FakeConfluence) -> None:
    _site(fake)
    for make in (cloud_config, dc_config):
        records = page_records(run_read(make(fake, space_keys=["HR"])))
        assert _space_keys(records) == {"HR"}, f"{make.__name__}: space_keys ignored: {_space_keys(records)}"


def test_personal_spaces_can_be_left_out(fake: FakeConfluence) -> None:
    _site(fake)
    assert "~alice" in _space_keys(page_records(run_read(cloud_config(fake)))), "personal spaces are read by default"
    for make in (cloud_config, dc_config):
        keys = _space_keys(page_records(run_read(make(fake, include_personal_spaces=False))))
        assert keys == {"ENG", "HR"}, f"{make.__name__}: include_personal_spaces=false still read {keys}"


@pytest.mark.parametrize("make", [cloud_config, dc_config])
def test_personal_space_named_in_space_keys_is_read_even_without_personal_spaces(fake: FakeConfluence, make) -> None:
    _site(fake)
    keys = _space_keys(page_records(run_read(make(fake, space_keys=["~alice", "HR"], include_personal_spaces=False))))
    assert keys == {"~alice", "HR"}, f"{make.__name__}: a personal space named in space_keys was dropped: {keys}"


def test_visibility_rules(fake: FakeConfluence) -> None:
    _site(fake)
    for make in (cloud_config, dc_config):
        output = run_read(make(fake, internal_space_keys=["hr"]), "spaces", "pages")
        by_space = {r["space_key"]: r["visibility"] for r in page_records(output)}
        assert by_space == {"ENG": "public", "HR": "internal", "~alice": "internal"}, f"{make.__name__}: {by_space}"
        spaces = {m.record.data["key"]: m.record.data for m in output.records if m.record.stream == "spaces"}
        assert spaces["~alice"]["visibility"] == "internal" and spaces["ENG"]["visibility"] == "public", (
            "space visibility"
        )
        assert all(isinstance(s["id"], str) for s in spaces.values()), "space ids must be strings"


def test_every_space_record_carries_what_the_source_was_asked_for(fake: FakeConfluence) -> None:
    """The destination's mass-deletion guard reads `selection` to tell a space dropped from space_keys from one that
    vanished from the listing (docs/sync.md)."""
    _site(fake)
    for make in (cloud_config, dc_config):
        cases = [
            ({}, {"space_keys": [], "include_personal_spaces": True}),
            (
                {"space_keys": ["ENG", "~alice"], "include_personal_spaces": False},
                {"space_keys": ["ENG", "~alice"], "include_personal_spaces": False},
            ),
        ]
        for overrides, selection in cases:
            output = run_read(make(fake, **overrides), "spaces")
            spaces = [m.record.data for m in output.records if m.record.stream == "spaces"]
            assert spaces, f"{make.__name__} {overrides}: no space records"
            wrong = [s["key"] for s in spaces if s.get("selection") != selection]
            assert not wrong, f"{make.__name__} {overrides}: spaces {wrong} lack selection {selection}: {spaces[0]}"


def test_max_pages_caps_the_sync(fake: FakeConfluence) -> None:
    _site(fake)
    output = run_read(cloud_config(fake, max_pages=5, page_size=2, num_workers=1))
    assert len(page_records(output)) == 5, f"max_pages=5 emitted {len(page_records(output))} pages"
    summary = [m.log.message for m in output.logs if m.log.message.startswith("Sync summary")]
    assert summary and "skipped by max_pages" in summary[0], f"summary does not mention the cap: {summary}"


def test_custom_headers_are_sent(fake: FakeConfluence) -> None:
    _site(fake)
    run_read(cloud_config(fake, custom_headers={"X-Tenant": "docs"}))
    assert fake.requests and all(r.headers.get("X-Tenant") == "docs" for r in fake.requests), "custom header not sent"


@pytest.mark.parametrize("header", ["Authorization", "authorization", " AUTHORIZATION", "Cookie"])
def test_custom_headers_may_not_replace_credentials(fake: FakeConfluence, header: str) -> None:
    config = cloud_config(fake, custom_headers={header: "Basic c3RvbGVu"})
    output = run_read(config, "spaces", "pages")
    errors = [m.trace.error for m in output.errors]
    assert errors and all(e.failure_type.value == "config_error" for e in errors), f"not a config error: {errors}"
    assert "credentials" in errors[0].message and "c3RvbGVu" not in all_output_text(output), errors[0].message
    assert not fake.requests, "a refused header must stop the read before any request"
    status, message = run_check(config)
    assert status == "FAILED" and "custom_headers may not set" in message, message


def test_request_timeout_reaches_every_request(fake: FakeConfluence) -> None:
    _site(fake)
    run_read(cloud_config(fake, request_timeout_seconds=7.5))
    timeouts = {r.timeout for r in fake.requests}
    assert timeouts == {(7.5, 7.5)}, f"request_timeout_seconds not applied: {timeouts}"


def test_num_workers_sets_concurrency(fake: FakeConfluence) -> None:
    source = SourceConfluence(config=cloud_config(fake, num_workers=3))
    assert source._concurrent_source._threadpool._threadpool._max_workers == 3, (
        "num_workers not used as concurrency level"
    )


def test_deployment_switches_stream_definitions(fake: FakeConfluence) -> None:
    _site(fake)
    run_read(dc_config(fake))
    assert fake.requests and all("/rest/api/" in r.path for r in fake.requests), "data_center must use REST v1 only"
    fake.requests.clear()
    run_read(cloud_config(fake))
    # access is read in bulk from v1 CQL search and group members (v2 has no restriction listing)
    access = ("/wiki/rest/api/content/search", "/wiki/rest/api/group/")
    content = [r for r in fake.requests if not r.path.startswith(access)]
    assert content and all("/wiki/api/v2/" in r.path for r in content), "cloud must read content from REST v2 only"
