"""HTTP as Confluence needs it: timeouts from the config, a 2xx that is not a JSON object retried, Retry-After
honoured but capped, and `Probe` for the requests made outside the CDK's streams (check, names, access)."""

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import InitVar, dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters import HttpRequester
from airbyte_cdk.sources.declarative.requesters.error_handlers import DefaultErrorHandler
from airbyte_cdk.sources.declarative.requesters.request_options import InterpolatedRequestOptionsProvider
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Config

from source_confluence.component_parts.common import DEFAULT_TIMEOUT_SECONDS, logger
from source_confluence.component_parts.oauth import is_oauth, refresh_after_401, shared_oauth
from source_confluence.component_parts.stats import SYNC_STATS

# The CDK sleeps `backoff + 1` s for a user-defined backoff and reads a backoff of exactly 0 as "none".
_CDK_EXTRA_SLEEP_SECONDS = 1.0
RETRYABLE_STATUSES = {408, 425, 429, 500, 502, 503, 504}


def retry_after_seconds(response: requests.Response, now: datetime | None = None) -> float | None:
    """Seconds asked for by `Retry-After` (delta seconds or an HTTP date); None when absent or unreadable."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except (ValueError, OverflowError):
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def request_path(outcome: requests.Response | requests.RequestException | None) -> str:
    """The URL path of the failed request (never its headers, which carry credentials)."""
    url = getattr(getattr(outcome, "request", None), "url", None) or getattr(outcome, "url", None)
    return urlsplit(url).path if url else "<unknown path>"


PARSED_BODY_ATTRIBUTE = "_confluence_parsed_body"


def response_body_problem(response: requests.Response) -> tuple[str, FailureType] | None:
    """Why a 2xx answer is not a page of results (message, failure type), or None (and the body is kept decoded).
    A body declaring JSON (or no type) that does not parse was cut off: transient. Anything else (an HTML login or
    proxy page, plain text) means base_url does not reach the Confluence API: a config error."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        setattr(response, PARSED_BODY_ATTRIBUTE, body)
        return None
    content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    path, status = request_path(response), response.status_code
    if not content_type or "json" in content_type:
        return (
            f"Confluence answered {path} with malformed JSON (HTTP {status}, {len(response.content)} bytes that "
            "are not a JSON object): a truncated or corrupted body, e.g. from a proxy or a dropped connection.",
            FailureType.transient_error,
        )
    return (
        f"Confluence answered {path} with {content_type} instead of JSON (HTTP {status}): is base_url a "
        "Confluence site (with its context path) and deployment right, or did a proxy or login page answer?",
        FailureType.config_error,
    )


@dataclass
class ConfluenceRequester(HttpRequester):
    """`HttpRequester` with `request_timeout_seconds` as connect and read timeout, and never a response cache (it
    would keep a truncated 200 and serve it to every retry). The manifest schema takes only literal timeouts."""

    request_parameters: Mapping[str, Any] | str | None = None
    request_headers: Mapping[str, Any] | str | None = None
    content_type: str | None = None
    """REST v1's `type` query parameter: a `type` key in `request_parameters` would be read as a component type."""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        parameters = parameters or {}
        timeout = float(self.config.get("request_timeout_seconds") or DEFAULT_TIMEOUT_SECONDS)
        self.connect_timeout_in_seconds = self.read_timeout_in_seconds = timeout
        self.use_cache = False
        query = self.request_parameters
        if self.content_type:
            query = {**(query or {}), "type": self.content_type}  # type: ignore[dict-item]
        self.request_options_provider = InterpolatedRequestOptionsProvider(
            request_parameters=query, request_headers=self.request_headers, config=self.config, parameters=parameters
        )
        super().__post_init__(parameters)


@dataclass
class ConfluenceErrorHandler(DefaultErrorHandler):
    """`DefaultErrorHandler` (filters, backoff and `max_retries` from the manifest) that also retries a 2xx whose
    body is not a JSON object; after the last retry the sync fails naming the path and what came instead. On a
    listing (`page_size_reduction_statuses` set, with the retriever's `page_size_reduction`) those statuses ask the
    CDK for the same page at half the size: a page of bodies too big to render in time is what makes Confluence
    answer 500, 502 or 504 (Onyx #10147), and a smaller page gets through where a retry of the same would not."""

    page_size_reduction_statuses: list[int] | None = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        # The CDK also stops retrying after `max_time` s (600 by default), which would cut long retries short.
        per_attempt = (
            float(self.config.get("max_retry_seconds", 60.0))
            + 1.0
            + float(self.config.get("request_timeout_seconds") or DEFAULT_TIMEOUT_SECONDS)
        )
        self.max_time = max(int(self.max_time), int((int(self.max_retries or 0) + 1) * per_attempt) + 1)  # type: ignore[arg-type]

    def interpret_response(self, response_or_exception: Any) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response) and response_or_exception.ok:
            problem = response_body_problem(response_or_exception)
            if problem is not None:
                return ErrorResolution(ResponseAction.RETRY, problem[1], problem[0])
        if oauth_expired(response_or_exception, self.config):
            return REFRESH_THEN_RETRY
        if isinstance(response_or_exception, requests.Response) and response_or_exception.status_code in (
            self.page_size_reduction_statuses or ()
        ):
            SYNC_STATS.count(retries=1)
            return ErrorResolution(
                ResponseAction.REDUCE_PAGE_SIZE,
                FailureType.transient_error,
                f"Confluence answered {request_path(response_or_exception)} with HTTP "
                f"{response_or_exception.status_code}; the page is asked for again at half the size.",
            )
        return super().interpret_response(response_or_exception)


REFRESH_THEN_RETRY = ErrorResolution(
    ResponseAction.REFRESH_TOKEN_THEN_RETRY,
    FailureType.transient_error,
    "The OAuth access token was refused (HTTP 401); it is refreshed and the request sent again.",
)


def oauth_expired(outcome: Any, config: Mapping[str, Any]) -> bool:
    """A 401 to OAuth credentials: the access token expired or was revoked early (the CDK refreshes it, once)."""
    return isinstance(outcome, requests.Response) and outcome.status_code == 401 and is_oauth(config)


@dataclass
class DownloadErrorHandler(DefaultErrorHandler):
    """The downloads' `DefaultErrorHandler`, with an OAuth access token refreshed after a 401 like the streams'."""

    def interpret_response(self, response_or_exception: Any) -> ErrorResolution:
        if oauth_expired(response_or_exception, self.config):
            return REFRESH_THEN_RETRY
        return super().interpret_response(response_or_exception)


def authorize(session: requests.Session, config: Mapping[str, Any]) -> None:
    """The sync's credentials on a session of requests made outside the streams: Basic (classic and scoped tokens),
    Bearer (Data Center personal access tokens) or the run's shared OAuth authenticator."""
    credentials = config.get("credentials") or {}
    if is_oauth(config):
        session.auth = shared_oauth(config)
    elif credentials.get("auth_type") == "bearer":
        session.headers["Authorization"] = f"Bearer {credentials.get('token', '')}"
    else:
        session.auth = (credentials.get("username", ""), credentials.get("api_token", ""))


@dataclass
class RetryAfterCappedBackoff(BackoffStrategy):
    """Exponential backoff with equal jitter between `min_retry_seconds` and `max_retry_seconds`; a `Retry-After`
    is honoured but never beyond `max_retry_seconds` (a server once sent 9223372036854775807)."""

    config: Config
    parameters: InitVar[Mapping[str, Any]] = None

    def delay_seconds(self, response_or_exception: Any, attempt_count: int) -> float:
        low = max(0.0, float(self.config.get("min_retry_seconds", 1.0)))
        high = max(low, float(self.config.get("max_retry_seconds", 60.0)))
        asked = (
            retry_after_seconds(response_or_exception) if isinstance(response_or_exception, requests.Response) else None
        )
        if asked is not None:
            return min(high, max(asked, low))
        ceiling = min(high, low * (2 ** max(0, attempt_count - 1)))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def announced_delay(self, outcome: Any, attempt_count: int) -> float:
        """The wait before the next attempt, counted in the sync's retries and logged: every retry of the sync (the
        CDK's and the Probe's) says where, why and how long."""
        delay = self.delay_seconds(outcome, attempt_count)
        SYNC_STATS.count(retries=1)
        if isinstance(outcome, requests.Response):
            cause = f"{'a body that is not a JSON object (' if outcome.ok else '('}HTTP {outcome.status_code})"
        else:
            cause = type(outcome).__name__
        logger.info(f"Retrying {request_path(outcome)} after {cause} in {delay:.2f}s (attempt {attempt_count}).")
        return delay

    def backoff_time(self, response_or_exception: Any, attempt_count: int) -> float | None:
        compensated = self.announced_delay(response_or_exception, attempt_count) - _CDK_EXTRA_SLEEP_SECONDS
        return compensated if compensated != 0 else -1e-9


class Probe:
    """GETs with the sync's credentials, custom headers, timeout and bounded retries; the response or the error."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.session = requests.Session()
        authorize(self.session, config)
        self.session.headers["Accept"] = "application/json"
        self.session.headers.update(config.get("normalised_custom_headers") or {})
        seconds = float(config.get("request_timeout_seconds") or DEFAULT_TIMEOUT_SECONDS)
        self.timeout = (seconds, seconds)  # connect, read: as the CDK's requester sends it
        self.backoff = RetryAfterCappedBackoff(config=config)

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> requests.Response | requests.RequestException:
        return self.request("GET", url, params=params)

    def post(self, url: str, body: Any) -> requests.Response | requests.RequestException:
        return self.request("POST", url, json=body)

    def request(
        self, method: str, url: str, final: frozenset[int] = frozenset(), **options: Any
    ) -> requests.Response | requests.RequestException:
        """`final`: statuses this request takes as its answer instead of retrying (a permission route's 500 that
        means "not an admin", CONFSERVER-99908)."""
        retries, refreshed = int(self.config.get("max_retries", 5)), False
        for attempt in range(1, retries + 2):
            try:
                outcome: Any = self.session.request(method, url, timeout=self.timeout, **options)
            except requests.RequestException as error:
                outcome = error
            else:
                if oauth_expired(outcome, self.config) and not refreshed:
                    refreshed = refresh_after_401(self.config)  # once: a second 401 is the answer
                    if refreshed:
                        continue
                settled = outcome.status_code not in RETRYABLE_STATUSES or outcome.status_code in final
                if settled and not truncated_json(outcome):
                    return outcome
            if attempt <= retries:
                time.sleep(self.backoff.announced_delay(outcome, attempt))
        return outcome


def is_json(answer: Any) -> bool:
    """A response whose body parses as JSON and whose type (if given) says so; an error outcome is not."""
    if not isinstance(answer, requests.Response) or "json" not in answer.headers.get("Content-Type", "json").lower():
        return False
    try:
        answer.json()
    except ValueError:
        return False
    return True


def truncated_json(response: requests.Response) -> bool:
    """A 2xx that claims JSON but does not parse: cut off on the way, so worth retrying."""
    return response.ok and "json" in response.headers.get("Content-Type", "json").lower() and not is_json(response)


def describe_outcome(outcome: Any) -> str:
    """An outcome for a message: the exception's type or the HTTP status and content type (never headers)."""
    if isinstance(outcome, requests.RequestException):
        return f"a {type(outcome).__name__}"
    return f"HTTP {outcome.status_code} ({outcome.headers.get('Content-Type', 'no content type').split(';')[0]})"
