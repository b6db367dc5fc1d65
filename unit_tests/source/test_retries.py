"""Retries during read: 429 (Retry-After honoured and capped), 5xx, timeouts; fail fast on 401/403; exhausted
retries fail the sync with an error naming the URL path and no secret."""

import json
import re

import pytest
import requests
from airbyte_cdk.models import FailureType

from source_confluence.components import RetryAfterCappedBackoff, retry_after_seconds
from testkit.retry_log import retry_waits
from unit_tests.source.conftest import all_output_text, cloud_config, dc_config, page_records, run_read
from unit_tests.source.fake_confluence import SECRET_PAT, SECRET_TOKEN, FakeConfluence, Scripted

ABSURD = "9223372036854775807"


def _response(status: int, retry_after: str | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    response.request = requests.Request("GET", "https://acme.atlassian.net/wiki/api/v2/spaces").prepare()
    return response


@pytest.mark.parametrize(
    "value, expected", [("3", 3.0), ("0", 0.0), (ABSURD, float(ABSURD)), ("soon", None), (None, None)]
)
def test_retry_after_parsing(value: str | None, expected: float | None) -> None:
    assert retry_after_seconds(_response(429, value)) == expected, f"Retry-After {value!r}"


def test_retry_after_http_date() -> None:
    seconds = retry_after_seconds(_response(503, "Wed, 21 Oct 2099 07:28:00 GMT"))
    assert seconds is not None and seconds > 1e8, f"HTTP-date Retry-After not understood: {seconds}"


def test_backoff_honours_and_caps_retry_after() -> None:
    strategy = RetryAfterCappedBackoff(config={"min_retry_seconds": 0.5, "max_retry_seconds": 30})
    assert strategy.delay_seconds(_response(429, "7"), 1) == 7.0, "Retry-After below the cap must be honoured"
    assert strategy.delay_seconds(_response(429, ABSURD), 1) == 30.0, "absurd Retry-After must be capped"
    assert strategy.delay_seconds(_response(429, "0"), 1) == 0.5, "Retry-After below min_retry_seconds is raised to it"


def test_backoff_is_exponential_with_jitter_and_capped() -> None:
    strategy = RetryAfterCappedBackoff(config={"min_retry_seconds": 1, "max_retry_seconds": 10})
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 10), (30, 10)]:
        delays = {strategy.delay_seconds(_response(503), attempt) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays), (
            f"attempt {attempt}: {sorted(delays)[:3]}.. not in [{ceiling / 2}, {ceiling}]"
        )
        assert len(delays) > 1, f"attempt {attempt}: no jitter"


def test_backoff_compensates_the_cdk_extra_second() -> None:
    strategy = RetryAfterCappedBackoff(config={"min_retry_seconds": 0.01, "max_retry_seconds": 0.01})
    assert strategy.backoff_time(_response(429, "5"), 1) == pytest.approx(0.01 - 1.0), (
        "CDK adds 1s; the strategy must subtract it"
    )


def _site(fake: FakeConfluence) -> None:
    fake.add_space("ENG", n_pages=12)
    fake.add_space("DOCS", n_pages=5)


@pytest.mark.parametrize("make", [cloud_config, dc_config])
def test_429_with_absurd_retry_after_is_capped_and_loses_nothing(fake: FakeConfluence, make) -> None:
    _site(fake)
    fake.fail(r"/pages$|/content$", *[Scripted(status=429, headers={"Retry-After": ABSURD})] * 2)
    config = make(fake, page_size=4)
    output = run_read(config)
    assert not output.errors, f"{make.__name__}: sync failed on 429: {output.errors}"
    assert sorted(r["id"] for r in page_records(output)) == sorted(p.id for p in fake.pages), "pages lost after 429"
    waits = retry_waits(log.log.message for log in output.logs)
    assert len(waits) == 2, f"{make.__name__}: two 429s, but the source logged the waits {waits}"
    assert max(waits) <= float(config["max_retry_seconds"]), f"Retry-After was not capped by max_retry_seconds: {waits}"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_then_success(fake: FakeConfluence, status: int) -> None:
    _site(fake)
    fake.fail(r"/pages$", Scripted(status=status), Scripted(status=status))
    output = run_read(cloud_config(fake, page_size=3))
    assert not output.errors, f"HTTP {status} not retried: {output.errors}"
    assert len(page_records(output)) == len(fake.pages), f"pages lost after HTTP {status}"


@pytest.mark.parametrize(
    "error", [requests.exceptions.ReadTimeout, requests.exceptions.ConnectTimeout, requests.exceptions.ConnectionError]
)
def test_timeout_or_connection_error_then_success(fake: FakeConfluence, error: type[Exception]) -> None:
    _site(fake)
    fake.fail(r"/content$", Scripted(exception=error))
    output = run_read(dc_config(fake, page_size=5))
    assert not output.errors, f"{error.__name__} not retried: {output.errors}"
    assert len(page_records(output)) == len(fake.pages), f"pages lost after {error.__name__}"


@pytest.mark.parametrize("status", [503, 429])
def test_retries_exhausted_fail_with_the_path_and_no_secret(fake: FakeConfluence, status: int) -> None:
    _site(fake)
    fake.fail(r"/spaces/\d+/pages$", *[Scripted(status=status, headers={"Retry-After": "0"})] * 50)
    output = run_read(cloud_config(fake, max_retries=2))
    assert output.errors, f"HTTP {status} forever did not fail the sync"
    error = output.errors[-1].trace.error
    named = f"{error.message} {error.internal_message}"
    assert "/wiki/api/v2/spaces/" in named and "/pages" in named, f"error does not name the path: {named}"
    text = all_output_text(output)
    assert SECRET_TOKEN not in text and SECRET_PAT not in text, "a secret appeared in the output"
    attempts = [r for r in fake.requests if r.path.endswith("/pages") and r.path.startswith("/wiki/api/v2/spaces/1000")]
    assert len(attempts) == 3, f"max_retries=2 should make 3 attempts, made {len(attempts)}"


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_fail_fast_as_config_errors(fake: FakeConfluence, status: int) -> None:
    _site(fake)
    fake.fail(r"/pages$", *[Scripted(status=status)] * 10)
    output = run_read(cloud_config(fake, max_retries=5))
    assert output.errors, f"HTTP {status} did not fail the sync"
    errors = [m.trace.error for m in output.errors]
    assert all(e.failure_type == FailureType.config_error for e in errors), (
        f"HTTP {status} must be a config error: {errors}"
    )
    ours = [e.message for e in errors if f"(HTTP {status})" in e.message]
    assert ours and "/wiki/api/v2/spaces/" in ours[0] and "credentials" in ours[0], f"no actionable message: {errors}"
    assert SECRET_TOKEN not in all_output_text(output), "secret leaked"
    attempts = [r for r in fake.requests if r.path.endswith("/pages")]
    assert len(attempts) <= 2, f"HTTP {status} was retried ({len(attempts)} attempts)"


def test_progress_and_summary_logs(fake: FakeConfluence, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("source_confluence.components.PROGRESS_EVERY_PAGES", 5)
    _site(fake)
    fake.fail(r"/pages$", Scripted(status=503))
    output = run_read(cloud_config(fake, page_size=4))
    logs = [m.log.message for m in output.logs]
    progress = [line for line in logs if line.startswith("Progress:")]
    summary = [line for line in logs if line.startswith("Sync summary:")]
    assert len(progress) >= 3, f"expected a progress line every 5 pages, got {progress}"
    assert "requests" in progress[0] and " done" in progress[0] and "/s)" in progress[0] and "retr" in progress[0], (
        progress[0]
    )
    assert summary and "17 pages read from 2 spaces" in summary[0] and "with 1 retry in" in summary[0], summary


def test_failed_sync_still_logs_how_far_it_got(fake: FakeConfluence) -> None:
    _site(fake)
    fake.fail(r"/spaces/1001/pages$", *[Scripted(status=503)] * 10)
    output = run_read(cloud_config(fake, page_size=4, max_retries=1, num_workers=1))
    assert output.errors, "503 forever did not fail the sync"
    logs = [m.log.message for m in output.logs]
    assert not [line for line in logs if line.startswith("Sync summary:")], (
        "a failed sync must not log a success summary"
    )
    failed = [line for line in logs if line.startswith("Sync FAILED after")]
    assert failed and "12 pages read from 1 space in" in failed[0] and "with 2 retries" in failed[0], logs[-5:]


def test_error_handler_time_limit_does_not_cut_max_retries_short() -> None:
    from source_confluence.components import ConfluenceErrorHandler

    config = {"max_retries": 20, "max_retry_seconds": 120, "request_timeout_seconds": 30}
    handler = ConfluenceErrorHandler(config=config, parameters={}, max_retries="{{ config.get('max_retries', 5) }}")
    assert handler.max_retries == 20
    assert handler.max_time >= 21 * (120 + 1 + 30), (
        f"the CDK would give up after {handler.max_time} s, before 20 retries"
    )
    assert ConfluenceErrorHandler(config={}, parameters={}).max_time >= 600, "never below the CDK default"


TRUNCATED = '{"results": [{"id": "50000", "title": "ENG pa'


@pytest.mark.parametrize("make, path", [(cloud_config, r"/spaces/\d+/pages$"), (dc_config, r"/content$")])
def test_truncated_json_is_retried_and_loses_nothing(fake: FakeConfluence, make, path: str) -> None:
    _site(fake)
    fake.fail(path, Scripted(text=TRUNCATED), Scripted(text=TRUNCATED))
    output = run_read(make(fake, page_size=4))
    assert not output.errors, f"{make.__name__}: truncated JSON was not retried: {output.errors}"
    assert sorted(r["id"] for r in page_records(output)) == sorted(p.id for p in fake.pages), (
        "pages lost after truncated JSON"
    )
    retries = [m.log.message for m in output.logs if m.log.message.startswith("Retrying ")]
    assert len(retries) == 2 and "not a JSON object" in retries[0], retries


def test_truncated_json_forever_fails_after_max_retries_naming_path(fake: FakeConfluence) -> None:
    _site(fake)
    fake.fail(r"/spaces/1000/pages$", *[Scripted(text=TRUNCATED)] * 50)
    output = run_read(cloud_config(fake, max_retries=2))
    assert output.errors, "truncated JSON forever did not fail the sync"
    error = output.errors[0].trace.error
    assert "malformed JSON" in error.message and "/wiki/api/v2/spaces/1000/pages" in error.message, error.message
    assert error.failure_type == FailureType.transient_error, f"a truncated body is transient: {error.failure_type}"
    attempts = [r for r in fake.requests if r.path == "/wiki/api/v2/spaces/1000/pages"]
    assert len(attempts) == 3, f"max_retries=2 should make 3 attempts, made {len(attempts)}"


def test_html_200_during_read_fails_clearly_after_retries(fake: FakeConfluence) -> None:
    _site(fake)
    html = Scripted(headers={"Content-Type": "text/html; charset=UTF-8"}, text="<html>Log in</html>")
    fake.fail(r"/content$", *[html] * 50)
    output = run_read(dc_config(fake, max_retries=1))
    assert output.errors, "an HTML page instead of JSON did not fail the sync"
    error = output.errors[0].trace.error
    assert "text/html instead of JSON" in error.message and "/confluence/rest/api/content" in error.message, (
        error.message
    )
    assert "base_url" in error.message and error.failure_type == FailureType.config_error, error
    attempts = [r for r in fake.requests if r.path.endswith("/content") and "spaceKey=ENG" in r.url]
    assert len(attempts) == 2, f"max_retries=1 should make 2 attempts, made {len(attempts)}"


@pytest.mark.parametrize(
    "make, path, body",
    [
        (
            cloud_config,
            "/wiki/api/v2/spaces/1000/pages",
            {"errors": [{"status": 400, "code": "INVALID_REQUEST_PARAMETER", "title": "Invalid cursor"}]},
        ),
        (
            dc_config,
            "/confluence/rest/api/content",
            {"statusCode": 400, "message": "Invalid cursor", "reason": "Bad Request"},
        ),
    ],
)
def test_http_400_fails_at_once_naming_the_path_and_the_reason(
    fake: FakeConfluence, make, path: str, body: dict
) -> None:
    _site(fake)
    fake.fail(re.escape(path) + "$", *[Scripted(status=400, text=json.dumps(body))] * 10)
    output = run_read(make(fake, page_size=4, max_retries=5))
    assert output.errors, "HTTP 400 did not fail the sync"
    error = output.errors[0].trace.error
    assert "HTTP 400 (Invalid cursor)" in error.message and path in error.message, error.message
    assert "cursor that the server no longer accepts" in error.message, error.message
    attempts = [r for r in fake.requests if r.path == path and "spaceKey=DOCS" not in r.url]
    assert len(attempts) == 1, f"HTTP 400 must not be retried ({len(attempts)} attempts)"
