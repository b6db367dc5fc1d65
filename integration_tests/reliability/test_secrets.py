"""Guarantee 5: no credential leaks. Every command of both connectors runs with distinctive secrets; no token,
password, base64 of `user:secret` or Authorization header value may appear in stdout, stderr, or any file the run
writes (scanned as bytes, recursively: logs, LanceDB fragments and indexes, the DuckDB ledger).

Config files holding the secrets live in a separate `inputs` folder, outside the scanned tree; every command runs
with the scanned folder as its working directory, so stray files land where the scan looks."""

from __future__ import annotations

import base64
import urllib.parse
from pathlib import Path

import pytest

from integration_tests.reliability.helpers import (
    Run,
    destination_command,
    destination_config,
    destination_write,
    sample_site,
    source_command,
    source_config,
    write_json,
)
from testkit.confluence_stand_in import Auth, OAuthServer, StandIn

USERNAME = "svc-reader@example.com"
API_TOKEN = "tok-SECRET-5f1c9a"
WRONG_PASSWORD = "pw-SECRET-77aa"
BEARER = "pat-SECRET-31d0"
SCOPED_TOKEN = "scoped-SECRET-9e2b"
AUTH = Auth(username=USERNAME, api_token=API_TOKEN, bearer_token=BEARER, scoped_api_token=SCOPED_TOKEN)
BASIC = {"auth_type": "basic", "username": USERNAME, "api_token": API_TOKEN}
BASIC_WRONG = {"auth_type": "basic", "username": USERNAME, "api_token": WRONG_PASSWORD}
BEARER_CREDENTIALS = {"auth_type": "bearer", "token": BEARER}


def _forbidden() -> dict[str, bytes]:
    """Every form a secret could leak in, by a name for the failure message."""
    forms: dict[str, bytes] = {}
    for secret in (API_TOKEN, WRONG_PASSWORD, BEARER, SCOPED_TOKEN):
        forms[secret] = secret.encode()
        forms[f"url-encoded {secret}"] = urllib.parse.quote(secret, safe="").encode()
        forms[f"base64 of {secret}"] = base64.b64encode(secret.encode()).rstrip(b"=")
    for secret in (API_TOKEN, WRONG_PASSWORD, SCOPED_TOKEN):
        pair = base64.b64encode(f"{USERNAME}:{secret}".encode())
        forms[f"base64 of user:{secret}"] = pair.rstrip(b"=")
        forms[f"Authorization: Basic (user:{secret})"] = b"Basic " + pair
    forms["Authorization: Bearer"] = f"Bearer {BEARER}".encode()
    return forms


FORBIDDEN = _forbidden()


def _leaks(data: bytes) -> list[str]:
    return [name for name, form in FORBIDDEN.items() if form in data]


def _assert_clean(run: Run, what: str) -> None:
    leaked = _leaks(run.stdout.encode("utf-8", "surrogateescape") + run.stderr.encode("utf-8", "surrogateescape"))
    assert not leaked, f"{what}: stdout/stderr contain {leaked}"


def _assert_tree_clean(root: Path) -> int:
    files = [path for path in root.rglob("*") if path.is_file()]
    leaks = {str(path.relative_to(root)): found for path in files if (found := _leaks(path.read_bytes()))}
    assert not leaks, f"files written by the run contain secrets: {leaks}"
    return len(files)


@pytest.mark.slow
def test_no_command_leaks_a_credential(tmp_path: Path) -> None:
    _run_every_command(tmp_path)


def test_read_and_write_do_not_leak_credentials(tmp_path: Path) -> None:
    """The default-run subset: the commands that carry credentials over the wire and the data they produce."""
    _run_every_command(tmp_path, only_data_path=True)


def test_read_with_debug_logging_does_not_leak_the_authorization_header(tmp_path: Path) -> None:
    """`read --debug` logs each request's headers; the Basic value (base64 of user:token) was printed unmasked until
    6b7e38b (this test was a strict xfail until then)."""
    with StandIn(sample_site(), auth=AUTH) as server:
        run = source_command(
            "read",
            tmp_path / "runs",
            source_config(server.url, credentials=BASIC),
            inputs=tmp_path / "inputs",
            cwd=tmp_path / "runs",
            extra=["--debug"],
        )
    assert run.returncode == 0 and run.records(), f"read --debug failed\n{run.tail()}"
    _assert_clean(run, "source read --debug")


def test_read_of_every_stream_with_debug_logging_does_not_leak(tmp_path: Path) -> None:
    """Blog posts, comments, labels, the attachment listing and the file downloads (the CDK's `FileUploader`, which
    sends its own requests) with `--debug`, which logs each request's headers."""
    catalog = Path(__file__).resolve().parents[1] / "all_streams_catalog.json"
    every_stream = {"include_blog_posts": True, "include_comments": True, "include_attachments": True}
    with StandIn(sample_site(), auth=AUTH) as server:
        run = source_command(
            "read",
            tmp_path / "runs",
            source_config(server.url, credentials=BASIC, read_labels=True, **every_stream),
            inputs=tmp_path / "inputs",
            cwd=tmp_path / "runs",
            extra=["--debug", "--catalog", str(catalog)],  # the last --catalog wins: every stream, not pages only
        )
        downloads = server.stats.snapshot().get("download_requests", 0)
    streams = {m["record"]["stream"] for m in run.messages() if m["type"] == "RECORD"}
    assert run.returncode == 0 and downloads > 0, f"read of every stream failed or downloaded nothing\n{run.tail()}"
    assert {"blog_posts", "comments", "attachments", "attachment_files"} <= streams, f"streams read: {streams}"
    _assert_clean(run, "source read --debug, every stream")


def test_scoped_token_through_the_gateway_and_its_scope_mismatch_do_not_leak(tmp_path: Path) -> None:
    """A scoped token: a read through the stand-in's gateway with `--debug`, and the check that tells it was sent to
    the site itself (401 "scope does not match")."""
    scoped = {"auth_type": "scoped_token", "username": USERNAME, "api_token": SCOPED_TOKEN}
    with StandIn(sample_site(), auth=AUTH) as server:
        config = source_config(server.url, credentials=scoped, api_gateway_url=server.url)
        run = source_command(
            "read", tmp_path / "runs", config, inputs=tmp_path / "in", cwd=tmp_path / "runs", extra=["--debug"]
        )
        on_site = source_config(server.url, credentials={**scoped, "auth_type": "basic"}, max_retries=0)
        check = source_command("check", tmp_path / "runs", on_site, inputs=tmp_path / "in2", cwd=tmp_path / "runs")
    assert run.returncode == 0 and run.records(), f"read through the gateway failed\n{run.tail()}"
    assert "scope does not match" in check.stdout, f"check did not tell the scope mismatch\n{check.tail()}"
    _assert_clean(run, "source read --debug (scoped token, gateway)")
    _assert_clean(check, "source check (scoped token on the site)")
    _assert_tree_clean(tmp_path / "runs")


def test_oauth_refresh_with_debug_logging_does_not_leak_secrets_outside_the_control_message(tmp_path: Path) -> None:
    """OAuth (3LO) with `--debug` through a sync that outlives its access tokens: the client secret and every refresh
    and access token appear nowhere but in the CONTROL messages that hand the rotated config to the platform."""
    tokens = OAuthServer(client_secret="client-SECRET-4b7e", refresh_token="refresh-SECRET-0", requests_per_token=6)
    credentials = {
        "auth_type": "oauth2_refresh_token",
        "client_id": "demo-client",
        "client_secret": tokens.client_secret,
        "refresh_token": tokens.refresh_token,
    }
    with StandIn(sample_site(), auth=AUTH, oauth=tokens) as server:
        credentials["token_url"] = server.url + "/oauth/token"
        config = source_config(server.url, credentials=credentials, api_gateway_url=server.url)
        run = source_command(
            "read", tmp_path / "runs", config, inputs=tmp_path / "in", cwd=tmp_path / "runs", extra=["--debug"]
        )
        issued = [*tokens.issued, *tokens._uses]
    assert run.returncode == 0 and run.records() and len(tokens.issued) >= 2, f"OAuth read failed\n{run.tail()}"
    secrets = ["client-SECRET-4b7e", "refresh-SECRET-0", *issued]
    outside = [line for line in (run.stdout + run.stderr).splitlines() if not line.startswith('{"type":"CONTROL"')]
    leaked = sorted({secret for secret in secrets for line in outside if secret in line})
    assert not leaked, f"OAuth secrets outside CONTROL messages: {leaked}"


def _run_every_command(tmp_path: Path, *, only_data_path: bool = False) -> None:
    inputs, runs = tmp_path / "inputs", tmp_path / "runs"
    runs.mkdir(parents=True)
    site = sample_site()
    with StandIn(site, auth=AUTH) as server:
        cloud = source_config(server.url, credentials=BASIC, internal_space_keys=["HR"])
        wrong = source_config(server.url, credentials=BASIC_WRONG, max_retries=0)
        data_center = source_config(server.dc_url, credentials=BEARER_CREDENTIALS, deployment="data_center")

        def source(command: str, config: dict | None) -> Run:
            return source_command(command, runs, config, inputs=inputs, cwd=runs)

        read = source("read", cloud)
        _assert_clean(read, "source read (basic)")
        assert len(read.records()) == len(site.all_pages()), f"source read failed\n{read.tail()}"
        if not only_data_path:
            checks = {
                "spec": source("spec", None),
                "check (basic)": source("check", cloud),
                "check (bearer, data center)": source("check", data_center),
                "check (wrong password)": source("check", wrong),
                "discover": source("discover", cloud),
                "read (bearer, data center)": source("read", data_center),
            }
            for what, run in checks.items():
                _assert_clean(run, f"source {what}")
            status = checks["check (wrong password)"].connection_status()
            assert status and status["status"] == "FAILED", "check with a wrong password did not fail"
            assert checks["check (basic)"].connection_status()["status"] == "SUCCEEDED", "check with good creds"
            assert server.stats.snapshot().get("status_401_sent", 0) >= 1, "the wrong password was never sent"

    pipe = runs / "pipe.jsonl"  # what an orchestrator hands the destination: the source's RECORDs and STATEs
    pipe.write_text(
        "".join(
            line + "\n" for line in read.stdout.splitlines() if '"type":"RECORD"' in line or '"type":"STATE"' in line
        ),
        encoding="utf-8",
    )
    destination = destination_config(runs)
    write = destination_write(destination, pipe, runs, inputs=inputs, cwd=runs)
    _assert_clean(write, "destination write")
    assert write.returncode == 0 and write.states(), f"destination write failed\n{write.tail()}"
    if not only_data_path:
        config_path = write_json(inputs / "destination.json", destination)
        for args in (
            ["spec"],
            ["check", "--config", str(config_path)],
            ["search", "--config", str(config_path), "--json", "--visibility", "all", "API token login"],
            ["history", "--config", str(config_path), "--json"],
            ["history", "--config", str(config_path), "--pages"],
        ):
            run = destination_command(args, runs, cwd=runs)
            assert run.returncode == 0, f"destination {args[0]} failed\n{run.tail()}"
            _assert_clean(run, f"destination {' '.join(args[:1] + args[3:])}")
    assert any(_leaks(path.read_bytes()) for path in inputs.rglob("*.json")), (
        "the scanner finds no secret even in the config files that hold them: the scan is broken"
    )
    scanned = _assert_tree_clean(runs)
    assert scanned > 10, f"only {scanned} files scanned: the index or the logs are missing"
