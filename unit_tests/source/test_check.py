"""`check`: one true sentence per outcome, never a secret, never a stack trace for expected failures."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from source_confluence.run import run
from unit_tests.source.conftest import cloud_config, dc_config, run_check
from unit_tests.source.fake_confluence import SECRET_PAT, SECRET_TOKEN, FakeConfluence, Scripted

SECRETS = (SECRET_TOKEN, SECRET_PAT)


def _assert_clean(message: str) -> None:
    assert not any(secret in message for secret in SECRETS), f"a secret leaked into: {message}"
    assert "Traceback" not in message, f"stack trace in check message: {message}"


@pytest.mark.parametrize("make", [cloud_config, dc_config])
def test_success_is_one_sentence(fake: FakeConfluence, make) -> None:
    fake.add_space("ENG", n_pages=1)
    status, message = run_check(make(fake, space_keys=["ENG"]))
    assert status == "SUCCEEDED", f"{make.__name__}: {message}"
    assert "Connected to Confluence" in message and "ENG" in message, message
    _assert_clean(message)


@pytest.mark.parametrize("make", [cloud_config, dc_config])
def test_wrong_credentials(fake: FakeConfluence, make) -> None:
    config = make(fake)
    config["credentials"] = {"auth_type": "basic", "username": "x@example.com", "api_token": SECRET_TOKEN + "-wrong"}
    status, message = run_check(config)
    assert status == "FAILED" and "HTTP 401" in message and "credentials" in message, message
    _assert_clean(message)


def test_forbidden(fake: FakeConfluence) -> None:
    fake.fail(r"/spaces$", Scripted(status=403))
    status, message = run_check(cloud_config(fake))
    assert status == "FAILED" and "HTTP 403" in message, message
    _assert_clean(message)


@pytest.mark.parametrize("make", [cloud_config, dc_config])
def test_base_url_that_is_not_confluence(fake: FakeConfluence, make) -> None:
    fake.serve_v2 = False
    fake.serve_v1_at = set()
    status, message = run_check(make(fake))
    assert status == "FAILED" and "does not look like Confluence" in message and "HTTP 404" in message, message
    _assert_clean(message)


def test_html_200_is_not_confluence(fake: FakeConfluence) -> None:
    fake.fail(r"/spaces$", Scripted(status=200, headers={"Content-Type": "text/html"}, text="<html>login</html>"))
    fake.serve_v1_at = set()
    status, message = run_check(cloud_config(fake))
    assert status == "FAILED" and "does not look like Confluence" in message and "text/html" in message, message


def test_html_200_is_not_retried_by_check(fake: FakeConfluence) -> None:
    fake.fail(
        r"/spaces$", *[Scripted(status=200, headers={"Content-Type": "text/html"}, text="<html>login</html>")] * 5
    )
    fake.serve_v1_at = set()
    status, message = run_check(cloud_config(fake, max_retries=3))
    assert status == "FAILED" and "does not look like Confluence" in message, message
    assert len([r for r in fake.requests if r.path == "/wiki/api/v2/spaces"]) == 1, (
        "an HTML page is a config problem, not retried"
    )


def test_check_retries_truncated_json_then_succeeds(fake: FakeConfluence) -> None:
    fake.add_space("ENG")
    fake.fail(r"/spaces$", Scripted(text='{"results": [{"id": "10'))
    status, message = run_check(cloud_config(fake))
    assert status == "SUCCEEDED", f"check did not retry a truncated JSON body: {message}"


def test_check_truncated_json_every_time_says_malformed(fake: FakeConfluence) -> None:
    fake.fail(r"/spaces$", *[Scripted(text='{"results": [{"id": "10')] * 10)
    status, message = run_check(cloud_config(fake, max_retries=2))
    assert status == "FAILED" and "malformed (truncated) JSON" in message and "/wiki/api/v2/spaces" in message, message
    assert "does not look like Confluence" not in message, message
    assert len([r for r in fake.requests if r.path == "/wiki/api/v2/spaces"]) == 3, (
        "max_retries=2 should make 3 attempts"
    )


@pytest.mark.parametrize("make", [cloud_config, dc_config])
def test_unknown_space_key(fake: FakeConfluence, make) -> None:
    fake.add_space("ENG")
    status, message = run_check(make(fake, space_keys=["ENG", "NOPE"]))
    assert status == "FAILED" and "NOPE" in message and "ENG" not in message.split("NOPE")[0][-10:], message
    _assert_clean(message)


def test_data_center_url_configured_as_cloud(fake: FakeConfluence) -> None:
    fake.serve_v2 = False
    status, message = run_check(cloud_config(fake, base_url=fake.origin + "/confluence"))
    assert status == "FAILED" and "this looks like Data Center; set deployment to data_center" in message, message


def test_cloud_url_configured_as_data_center(fake: FakeConfluence) -> None:
    fake.serve_v1_at = set()
    status, message = run_check(dc_config(fake, base_url=fake.origin))
    assert status == "FAILED" and "set deployment to cloud" in message, message


def test_unreachable_host(fake: FakeConfluence) -> None:
    import requests

    fake.fail(r"/spaces$", *[Scripted(exception=requests.exceptions.ConnectionError)] * 5)
    status, message = run_check(cloud_config(fake, max_retries=2))
    assert status == "FAILED" and "Could not reach" in message, message


def test_check_retries_a_429_then_succeeds(fake: FakeConfluence) -> None:
    fake.fail(r"/spaces$", Scripted(status=429, headers={"Retry-After": "9223372036854775807"}))
    status, message = run_check(cloud_config(fake))
    assert status == "SUCCEEDED", f"check did not retry a 429 with an absurd Retry-After: {message}"


def test_config_error_in_check_is_a_failed_status_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = {
        "base_url": "https://acme.atlassian.net",
        "credentials": {"auth_type": "bearer", "token": SECRET_PAT},
        "custom_headers": {"Authorization": "Bearer " + SECRET_PAT},
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    run(["check", "--config", str(path)])  # returns (exit code 0): a failed check is a FAILED status, not a crash
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1]["type"] == "CONNECTION_STATUS" and lines[-1]["connectionStatus"]["status"] == "FAILED", lines
    assert "Authorization" in lines[-1]["connectionStatus"]["message"], lines[-1]
    _assert_clean(json.dumps(lines))


def test_main_py_subprocess_prints_only_protocol_json(tmp_path: Path) -> None:
    config = {
        "base_url": "http://127.0.0.1:9",
        "credentials": {"auth_type": "basic", "username": "u", "api_token": SECRET_TOKEN},
        "max_retries": 0,
        "request_timeout_seconds": 2,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    root = Path(__file__).resolve().parents[2]
    for command in (["spec"], ["check", "--config", str(path)], ["discover", "--config", str(path)]):
        result = subprocess.run(
            [sys.executable, str(root / "main.py"), *command], cwd=root, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, f"main.py {command[0]} exited {result.returncode}: {result.stderr[-2000:]}"
        messages = [json.loads(line) for line in result.stdout.splitlines()]  # raises if any line is not JSON
        assert all("type" in message for message in messages), f"{command[0]}: non-protocol JSON on stdout"
        assert SECRET_TOKEN not in result.stdout + result.stderr, f"{command[0]}: secret printed"
        expected = {"spec": "SPEC", "check": "CONNECTION_STATUS", "discover": "CATALOG"}[command[0]]
        assert any(message["type"] == expected for message in messages), f"{command[0]}: no {expected} message"
        if command[0] == "check":
            status = [m for m in messages if m["type"] == "CONNECTION_STATUS"][0]["connectionStatus"]
            assert status["status"] == "FAILED" and "Could not reach" in status["message"], status
