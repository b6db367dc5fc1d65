"""Custom components for manifest.yaml: only what the declarative YAML cannot say.

- `NormaliseConfluenceConfig`: maps Airbyte's legacy config, normalises `base_url` once per deployment and refuses a
  `custom_headers` that would replace `Authorization` (YAML transformations cannot parse URLs or raise config errors).
- `ConfluenceErrorHandler`: the YAML error handler, plus a retry of a 2xx answer whose body is not a JSON object (a
  body truncated by a proxy or a dropped connection; an HTML page), which the YAML filters cannot see.
- `RetryAfterCappedBackoff`: exponential backoff with jitter that honours `Retry-After` but caps it (the CDK's
  `WaitTimeFromHeader` fails the sync instead of capping, and no YAML strategy has jitter).
- `ConfluenceResultsExtractor`: the `results` of a page of Confluence's answer, each carrying the envelope's
  `_links.base` (a record alone cannot build its absolute browser URL), and a request counter for progress logs.
- `MaxPagesFilter`: the optional global `max_pages` cap, shared by all space partitions and worker threads.
- `PageRecordShaper`: one `pages` record shape from REST v2 and REST v1 alike, copying the storage body untouched
  (YAML interpolation would re-parse a body that looks like a Python literal).
"""

from __future__ import annotations

import base64
import email.utils
import logging
import random
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import InitVar, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.requesters.error_handlers import DefaultErrorHandler
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.declarative.transformations.config_transformations.config_transformation import (
    ConfigTransformation,
)
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_confluence.progress import SYNC_STATS
from source_confluence.site_url import CLOUD, SiteUrlError, normalise_site_urls

logger = logging.getLogger("airbyte.source_confluence")

LINK_BASE_KEY = "__confluence_links_base"
"""Key under which the extractor hands `_links.base` of the response envelope to the record shaper."""

# The CDK sleeps `backoff + 1` seconds for every user-defined backoff (rate_limiting.sleep_on_ratelimit) and treats
# a backoff of exactly 0 as "no backoff"; the strategy subtracts this second so the configured bounds really hold.
_CDK_EXTRA_SLEEP_SECONDS = 1.0


def config_error(message: str) -> AirbyteTracedException:
    """An error the user fixes in the config: no stack trace is shown for it."""
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


@dataclass
class NormaliseConfluenceConfig(ConfigTransformation):
    """Adds `normalised_*` URLs to the config and maps the legacy `domain_name`/`email`/`api_token` config."""

    config: Config = field(default_factory=dict)
    parameters: InitVar[Mapping[str, Any]] = None

    def transform(self, config: MutableMapping[str, Any]) -> None:
        if not config.get("base_url") and config.get("domain_name"):
            config["base_url"] = config["domain_name"]
        if not config.get("credentials") and config.get("email") and config.get("api_token"):
            config["credentials"] = {
                "auth_type": "basic",
                "username": config["email"],
                "api_token": config["api_token"],
            }
        config.setdefault("deployment", CLOUD)
        register_derived_secrets(config)
        if not config.get("base_url"):
            # Let spec validation report the missing field, in its own words.
            return
        try:
            urls = normalise_site_urls(str(config["base_url"]), str(config["deployment"]))
        except SiteUrlError as error:
            raise config_error(str(error)) from None
        config["normalised_origin"] = urls.origin
        config["normalised_site_base"] = urls.site_base
        config["normalised_api_root"] = urls.api_root
        config["normalised_v1_api_root"] = urls.v1_api_root
        config["normalised_custom_headers"] = validated_custom_headers(config.get("custom_headers"))
        config["normalised_internal_space_keys"] = [
            str(key).casefold() for key in config.get("internal_space_keys") or []
        ]


def register_derived_secrets(config: Mapping[str, Any]) -> None:
    """Masks what the CDK's log filter cannot know is secret: the Basic header value (base64 of user:token) that
    debug logs of requests print, and a legacy top-level `api_token` that the spec does not mark."""
    credentials = config.get("credentials") or {}
    token = credentials.get("api_token") or credentials.get("token") or config.get("api_token")
    if not token:
        return
    derived = [str(token)]
    username = credentials.get("username") or config.get("email")
    if username:
        basic = base64.b64encode(f"{username}:{token}".encode()).decode()
        derived += [basic, f"Basic {basic}"]
    for secret in derived:
        add_to_secrets(secret)


def validated_custom_headers(raw_headers: Any) -> dict[str, str]:
    """Extra headers as strings; refuses any that would replace the credentials set in `credentials`."""
    if raw_headers in (None, "", {}):
        return {}
    if isinstance(raw_headers, str):
        import json

        try:
            raw_headers = json.loads(raw_headers)
        except ValueError:
            raise config_error("custom_headers must be a JSON object of header names to values.") from None
    if not isinstance(raw_headers, Mapping):
        raise config_error("custom_headers must be a JSON object of header names to values.")
    refused = sorted(
        name for name in raw_headers if str(name).strip().lower() in ("authorization", "proxy-authorization", "cookie")
    )
    if refused:
        raise config_error(
            f"custom_headers may not set {', '.join(refused)}: credentials belong in `credentials`, "
            "so a header cannot silently replace them. Remove the header from custom_headers."
        )
    return {str(name): str(value) for name, value in raw_headers.items()}


def retry_after_seconds(response: requests.Response, now: datetime | None = None) -> float | None:
    """Seconds asked for by `Retry-After` (delta seconds or an HTTP date); None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except (ValueError, OverflowError):
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def request_path(response_or_exception: requests.Response | requests.RequestException | None) -> str:
    """The URL path of the failed request (never its headers, which carry credentials)."""
    request = getattr(response_or_exception, "request", None)
    url = getattr(request, "url", None) or getattr(response_or_exception, "url", None)
    return urlsplit(url).path if url else "<unknown path>"


_PARSED_BODY = "_confluence_parsed_body"
"""Attribute under which `ConfluenceErrorHandler` leaves the decoded body for the extractor (decoded once)."""


def response_body_problem(response: requests.Response) -> tuple[str, FailureType] | None:
    """Why a 2xx answer cannot be read as a page of Confluence results (message, failure type), or None.

    A body that declares JSON (or no type) but does not parse was cut off on the way: transient. Anything else (an
    HTML login or proxy page, plain text) means base_url does not reach the Confluence API: a config error."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        setattr(response, _PARSED_BODY, body)
        return None
    content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    path = request_path(response)
    if not content_type or "json" in content_type:
        return (
            f"Confluence answered {path} with malformed JSON (HTTP {response.status_code}, "
            f"{len(response.content)} bytes that are not a JSON object): a truncated or corrupted body, e.g. from a "
            "proxy or a dropped connection.",
            FailureType.transient_error,
        )
    return (
        f"Confluence answered {path} with {content_type} instead of JSON (HTTP {response.status_code}): "
        "is base_url a Confluence site (with its context path) and deployment right, or did a proxy or login page answer?",
        FailureType.config_error,
    )


def parsed_body(response: requests.Response) -> Any:
    """The decoded JSON body, reusing the error handler's decoding when it did one."""
    body = getattr(response, _PARSED_BODY, None)
    return body if body is not None else response.json()


@dataclass
class ConfluenceErrorHandler(DefaultErrorHandler):
    """`DefaultErrorHandler` (filters, retries, backoff from the manifest) that also retries, with the same backoff
    and `max_retries`, a 2xx answer whose body is not a JSON object; after the last retry the sync fails with the
    message of `response_body_problem`, which names the path and says "malformed JSON" or what came instead."""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        # The CDK also stops retrying a request after `max_time` seconds (600 by default), which would cut
        # `max_retries` short with long waits; allow the worst case of the configured retries instead.
        attempts = int(self.max_retries or 0) + 1  # type: ignore[arg-type]
        per_attempt = (
            float(self.config.get("max_retry_seconds", 60.0))
            + 1.0
            + float(self.config.get("request_timeout_seconds") or 60)
        )
        self.max_time = max(int(self.max_time), int(attempts * per_attempt) + 1)

    def interpret_response(self, response_or_exception: Any) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response) and response_or_exception.ok:
            problem = response_body_problem(response_or_exception)
            if problem is not None:
                message, failure_type = problem
                return ErrorResolution(ResponseAction.RETRY, failure_type, message)
        return super().interpret_response(response_or_exception)


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

    def backoff_time(self, response_or_exception: Any, attempt_count: int) -> float | None:
        delay = self.delay_seconds(response_or_exception, attempt_count)
        SYNC_STATS.count_retry()
        if isinstance(response_or_exception, requests.Response) and response_or_exception.ok:
            cause = f"a body that is not a JSON object (HTTP {response_or_exception.status_code})"
        elif isinstance(response_or_exception, requests.Response):
            cause = f"HTTP {response_or_exception.status_code}"
        else:
            cause = type(response_or_exception).__name__
        logger.info(
            f"Retrying {request_path(response_or_exception)} after {cause} in {delay:.2f}s (attempt {attempt_count})."
        )
        compensated = delay - _CDK_EXTRA_SLEEP_SECONDS
        return compensated if compensated != 0 else -1e-9


@dataclass
class ConfluenceResultsExtractor(RecordExtractor):
    """Yields `results` of a Confluence list response, each with the envelope's `_links.base` attached."""

    config: Config
    parameters: InitVar[Mapping[str, Any]] = None
    counts_space_completion: bool = False

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        problem = None if hasattr(response, _PARSED_BODY) else response_body_problem(response)
        if problem is not None:  # only without ConfluenceErrorHandler, which retries these answers
            message, failure_type = problem
            raise AirbyteTracedException(message=message, internal_message=message, failure_type=failure_type)
        body = parsed_body(response)
        links = body.get("_links") or {}
        SYNC_STATS.count_response(is_last_page_of_a_space=self.counts_space_completion and not links.get("next"))
        link_base = links.get("base")
        for record in body.get("results") or []:
            record[LINK_BASE_KEY] = link_base
            yield record


@dataclass
class MaxPagesFilter(RecordFilter):
    """Passes pages until `max_pages` (if set) pages were passed in this sync, across all spaces and threads."""

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: StreamSlice | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        max_pages = self.config.get("max_pages")
        for record in records:
            if SYNC_STATS.admit_page(int(max_pages) if max_pages else None):
                yield record


def page_visibility(space_key: str | None, config: Mapping[str, Any]) -> str:
    """`internal` for personal spaces (`~` keys) and for keys listed in `internal_space_keys`, else `public`."""
    key = space_key or ""
    internal_keys = config.get("normalised_internal_space_keys")
    if internal_keys is None:
        internal_keys = [str(k).casefold() for k in config.get("internal_space_keys") or []]
    return "internal" if key.startswith("~") or key.casefold() in internal_keys else "public"


def _string_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


@dataclass
class PageRecordShaper(RecordTransformation):
    """Rewrites a REST v2 or REST v1 page into the `pages` record of docs/CONTRACTS.md."""

    config: Config = field(default_factory=dict)
    parameters: InitVar[Mapping[str, Any]] = None

    def transform(
        self,
        record: MutableMapping[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        config = config or self.config
        link_base = record.pop(LINK_BASE_KEY, None) or config.get("normalised_site_base") or ""
        shaped = (
            self._from_v2(record, stream_slice)
            if "spaceId" in record or "space" not in record
            else self._from_v1(record)
        )
        shaped["visibility"] = page_visibility(shaped["space_key"], config)
        body = shaped["body_storage"]
        if not isinstance(body, str) or body == "":
            shaped["body_storage"] = ""
            SYNC_STATS.count_empty_body()
            logger.info(
                f'Page {shaped["id"]} ({shaped["space_key"]}) has no storage body; emitted with body_storage "".'
            )
        webui = shaped["webui"] or ""
        shaped["webui_url"] = (link_base.rstrip("/") + webui) if webui else None
        record.clear()
        record.update(shaped)

    @staticmethod
    def _from_v2(page: Mapping[str, Any], stream_slice: StreamSlice | None) -> dict[str, Any]:
        space: Mapping[str, Any] = getattr(stream_slice, "extra_fields", None) or {}
        partition: Mapping[str, Any] = getattr(stream_slice, "partition", None) or {}
        version = page.get("version") or {}
        return {
            "id": str(page["id"]),
            "title": page.get("title"),
            "status": page.get("status"),
            "space_id": _string_or_none(page.get("spaceId") or partition.get("space_id")),
            "space_key": space.get("key"),
            "space_name": space.get("name"),
            "space_type": space.get("type"),
            "parent_id": _string_or_none(page.get("parentId")),
            "ancestors": [],
            "author_id": page.get("authorId"),
            "created_at": page.get("createdAt"),
            "updated_at": version.get("createdAt") or page.get("createdAt"),
            "version": int(version["number"]) if version.get("number") is not None else None,
            "body_storage": ((page.get("body") or {}).get("storage") or {}).get("value"),
            "webui": (page.get("_links") or {}).get("webui"),
        }

    @staticmethod
    def _from_v1(page: Mapping[str, Any]) -> dict[str, Any]:
        space = page.get("space") or {}
        version = page.get("version") or {}
        history = page.get("history") or {}
        ancestors = page.get("ancestors") or []
        creator = history.get("createdBy") or (version.get("by") if version.get("number") == 1 else None) or {}
        return {
            "id": str(page["id"]),
            "title": page.get("title"),
            "status": page.get("status"),
            "space_id": _string_or_none(space.get("id")),
            "space_key": space.get("key"),
            "space_name": space.get("name"),
            "space_type": space.get("type"),
            "parent_id": _string_or_none(ancestors[-1].get("id")) if ancestors else None,
            "ancestors": [ancestor.get("title") for ancestor in ancestors],
            "author_id": creator.get("accountId") or creator.get("userKey") or creator.get("username"),
            "created_at": history.get("createdDate") or (version.get("when") if version.get("number") == 1 else None),
            "updated_at": version.get("when"),
            "version": int(version["number"]) if version.get("number") is not None else None,
            "body_storage": ((page.get("body") or {}).get("storage") or {}).get("value"),
            "webui": (page.get("_links") or {}).get("webui"),
        }
