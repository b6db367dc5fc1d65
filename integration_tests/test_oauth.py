"""OAuth 2.0 through the stand-in's gateway and token endpoint: client credentials (service accounts) and a rotating
refresh token (3LO) across a sync that outlives its access tokens (each dies after a few requests, then 401s)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput

from integration_tests.test_source_content import ALL_ON, _expected_ids, by_stream, read_all
from testkit.confluence_stand_in import OAuthServer, StandIn, load_site
from unit_tests.source.conftest import run_check

SAMPLE_SITE = Path(__file__).parent / "sample_site"
FAST_RETRIES = {"min_retry_seconds": 0.01, "max_retry_seconds": 0.05, "max_retries": 2}


def oauth_config(server: StandIn, auth_type: str, **credentials: Any) -> dict[str, Any]:
    return {
        "base_url": server.url,
        "api_gateway_url": server.url,
        "credentials": {
            "auth_type": auth_type,
            "client_id": "demo-client",
            "client_secret": "demo-client-secret",
            "token_url": server.url + "/oauth/token",
            **credentials,
        },
        **FAST_RETRIES,
        **ALL_ON,
    }


def control_configs(stdout: str) -> list[dict[str, Any]]:
    """The configs of the CONTROL messages (CONNECTOR_CONFIG), which the CDK prints straight to stdout."""
    messages = [json.loads(line) for line in stdout.splitlines() if line.startswith('{"type":"CONTROL"')]
    return [m["control"]["connectorConfig"]["config"] for m in messages if m["control"]["type"] == "CONNECTOR_CONFIG"]


def assert_complete(output: EntrypointOutput, site: Any, what: str) -> None:
    assert not output.errors, f"{what}: {output.errors[0].trace.error.message}"
    streams = by_stream(output)
    for name, ids in _expected_ids(site).items():
        got = sorted(r["id"] for r in streams.get(name, []))
        assert got == ids, f"{what}: stream {name} has {len(got)} of {len(ids)} items"


def test_client_credentials_read_everything_through_the_gateway_with_fresh_tokens(
    capsys: pytest.CaptureFixture[str],
) -> None:
    site = load_site(SAMPLE_SITE)
    tokens = OAuthServer(requests_per_token=12)
    with StandIn(site, oauth=tokens) as server:
        config = oauth_config(server, "oauth2_client_credentials")
        output = read_all(config)
        status, message = run_check(config)
        paths, issued = server.stats.by_path, len(tokens._uses)
    assert_complete(output, site, "client credentials")
    assert issued >= 3, f"only {issued} access tokens were issued: the sync did not outlive one"
    api = [p for p in paths if "/api/" in p]
    assert api and all(p.startswith("/ex/confluence/") for p in api), "a request skipped the gateway"
    assert status == "SUCCEEDED", message
    assert not control_configs(capsys.readouterr().out), "client credentials have no refresh token to hand back"


def test_rotating_refresh_token_is_handed_back_and_the_new_one_is_used_next(capsys: pytest.CaptureFixture[str]) -> None:
    site = load_site(SAMPLE_SITE)
    tokens = OAuthServer(requests_per_token=10)
    with StandIn(site, oauth=tokens) as server:
        config = oauth_config(server, "oauth2_refresh_token", refresh_token="demo-refresh-0")
        output = read_all(config)
        first_issued = list(tokens.issued)
        handed_back = control_configs(capsys.readouterr().out)
        assert_complete(output, site, "3LO refresh token")
        assert len(first_issued) >= 3, f"{len(first_issued)} refreshes: the sync did not outlive its access token"
        # every refresh presented the token the one before it handed out: none was lost, none used twice
        assert tokens.refreshes == ["demo-refresh-0", *first_issued[:-1]], tokens.refreshes
        rotated = [c["credentials"]["refresh_token"] for c in handed_back]
        assert rotated == first_issued, f"CONTROL messages carried {rotated}, the server issued {first_issued}"
        last = handed_back[-1]
        assert last["credentials"]["access_token"] and last["credentials"]["token_expiry_date"]
        assert not [key for key in last if key.startswith("normalised_")], "derived keys were handed back as config"
        # the next sync starts from the handed-back config and its refresh token works
        again = read_all({**last, "credentials": {**last["credentials"], "access_token": "", "token_expiry_date": ""}})
        assert_complete(again, site, "the next sync, from the handed-back config")
        assert tokens.refreshes[len(first_issued)] == first_issued[-1], "the next sync did not use the newest token"
        # the old config's token was spent: the sync fails with a clear config error instead of reading nothing
        stale = read_all(config)
    assert stale.errors, "a refresh token used twice was accepted"
    text = " ".join(str(m.trace.error.message) for m in stale.errors)
    assert "refresh" in text.lower(), text
    logs = json.dumps([m.log.message for m in output.logs + again.logs + stale.logs])
    for secret in ["demo-client-secret", *first_issued]:
        assert secret not in logs, f"a secret ({secret[:8]}...) appeared in the logs"


def test_check_names_the_token_endpoints_refusal_and_a_spent_refresh_token() -> None:
    with StandIn(load_site(SAMPLE_SITE), oauth=OAuthServer()) as server:
        wrong = oauth_config(server, "oauth2_client_credentials")
        wrong["credentials"]["client_secret"] = "not-the-secret"
        status, message = run_check(wrong)
        assert status == "FAILED" and "token endpoint" in message and "client_secret" in message, message
        assert "not-the-secret" not in message
        spent = oauth_config(server, "oauth2_refresh_token", refresh_token="an-old-refresh-token")
        status, message = run_check(spent)
        assert status == "FAILED" and "Re-authenticate" in message, message
        good = oauth_config(server, "oauth2_refresh_token", refresh_token="demo-refresh-0")
        status, message = run_check(good)
    assert status == "SUCCEEDED" and "through Atlassian's API gateway" in message, message
