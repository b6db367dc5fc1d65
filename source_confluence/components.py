"""Custom components of manifest.yaml: only what the declarative YAML cannot say. ONE self-contained module.

Airbyte runs a manifest-only connector (its registry image, the Connector Builder) with `manifest.yaml` plus this one
file, registered as `source_declarative_manifest.components`; so it imports only the CDK, the standard library and
what the `source-declarative-manifest` image ships (requests). No `from __future__ import annotations`: the CDK
exec()s injected code before registering its module, and dataclasses then cannot resolve string `InitVar`s.

- Config: `NormaliseConfluenceConfig` turns `base_url` into the API roots once, maps the legacy config, registers
  derived secrets, and records (not raises) a config problem, which check reports and a read raises.
- HTTP: `ConfluenceRequester` (timeouts from `request_timeout_seconds`: the schema takes literal numbers only),
  `ConfluenceErrorHandler` (also retries a 2xx whose body is not a JSON object), `RetryAfterCappedBackoff`.
- Records: `ConfluenceResultsExtractor`, `MaxPagesFilter` (also `restricted_pages: exclude`), `PageRecordShaper` (REST v2
  or v1, named by the manifest).
- Access: `AccessReader` reads restrictions, space permissions and group members in bulk; `PageAccessFields` adds a
  page's `restricted` and `readers` (Confluence's rule, fail closed); `access_check_warning` for check.
- Check: `DiagnoseConnection`, the partition router of the check-only stream: one sentence naming the cause.
- Counting: `SyncStats` and `SummaryOnSyncEnd` (progress lines, the end-of-sync summary).
"""

import base64
import email.utils
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import InitVar, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.partition_routers import SinglePartitionRouter
from airbyte_cdk.sources.declarative.requesters import HttpRequester
from airbyte_cdk.sources.declarative.requesters.error_handlers import DefaultErrorHandler
from airbyte_cdk.sources.declarative.requesters.request_options import InterpolatedRequestOptionsProvider
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.declarative.transformations.config_transformations.config_transformation import (
    ConfigTransformation,
)
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

logger = logging.getLogger("airbyte.source_confluence")

CLOUD, DATA_CENTER = "cloud", "data_center"
DEFAULT_TIMEOUT_SECONDS = 60.0
PROGRESS_EVERY_PAGES = 250
LINK_BASE_KEY = "__confluence_links_base"
"""Key under which the extractor hands `_links.base` of the response envelope to the record shaper."""
CONFIG_PROBLEM_KEY = "normalised_config_problem"
# The CDK sleeps `backoff + 1` s for a user-defined backoff and reads a backoff of exactly 0 as "none".
_CDK_EXTRA_SLEEP_SECONDS = 1.0
_RETRYABLE = {408, 425, 429, 500, 502, 503, 504}


def config_error(message: str) -> AirbyteTracedException:
    """An error the user fixes in the config: no stack trace is shown for it."""
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


# ---------------------------------------------------------------------------------------------------------- config
def normalise_site_urls(base_url: str, deployment: str) -> dict[str, str]:
    """`origin`, `site_base`, `api_root` and `v1_api_root` for whatever a user typed as `base_url` (a bare host,
    `/wiki`, an API URL, a Data Center context path); ValueError says why a URL cannot name a Confluence site."""
    if deployment not in (CLOUD, DATA_CENTER):
        raise ValueError(f"deployment must be one of {CLOUD}, {DATA_CENTER}, not {deployment!r}.")
    text = (base_url or "").strip()
    if not text:
        raise ValueError("base_url is empty; set it to your Confluence site, e.g. https://yourcompany.atlassian.net.")
    if "://" not in text:
        host = text.split("/", 1)[0].split(":", 1)[0]
        text = ("http://" if host in ("127.0.0.1", "localhost", "[::1]") else "https://") + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url {base_url!r} is not an http(s) URL of a Confluence site.")
    if parts.username or parts.password:
        raise ValueError("base_url must not contain a user name or password; put credentials in `credentials`.")
    origin, path = f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")
    for suffix in ("/wiki/api/v2", "/api/v2", "/rest/api"):  # pasted from an API example: not part of the site
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    given = origin + path
    if deployment == CLOUD:  # Cloud serves the wiki under /wiki; another path is for check to diagnose (v1 probe)
        return {
            "origin": origin,
            "site_base": origin + "/wiki",
            "api_root": origin + "/wiki/api/v2",
            "v1_api_root": given + "/rest/api",
        }
    return {"origin": origin, "site_base": given, "api_root": given + "/rest/api", "v1_api_root": given + "/rest/api"}


@dataclass
class NormaliseConfluenceConfig(ConfigTransformation):
    """Adds the `normalised_*` URLs and headers to the config (after the manifest's YAML rules mapped the legacy
    config and set the defaults) and masks derived secrets."""

    config: Config = field(default_factory=dict)
    parameters: InitVar[Mapping[str, Any]] = None

    def transform(self, config: MutableMapping[str, Any]) -> None:
        register_derived_secrets(config)
        if not config.get("base_url"):
            return  # spec validation reports the missing field in its own words
        try:
            urls = normalise_site_urls(str(config["base_url"]), str(config.get("deployment") or CLOUD))
            config["normalised_custom_headers"] = validated_custom_headers(config.get("custom_headers"))
        except ValueError as error:
            # Raised here, the error would stop the CDK before `check` could answer with a FAILED status.
            config[CONFIG_PROBLEM_KEY] = str(error)
            return
        config.update({f"normalised_{name}": url for name, url in urls.items()})


def register_derived_secrets(config: Mapping[str, Any]) -> None:
    """Masks what the CDK's log filter cannot know is secret: the Basic header value (base64 of user:token) that
    debug logs of requests print, and a legacy top-level `api_token` that the spec does not mark."""
    credentials = config.get("credentials") or {}
    token = credentials.get("api_token") or credentials.get("token") or config.get("api_token")
    if not token:
        return
    add_to_secrets(str(token))
    username = credentials.get("username") or config.get("email")
    if username:
        basic = base64.b64encode(f"{username}:{token}".encode()).decode()
        add_to_secrets(basic)
        add_to_secrets(f"Basic {basic}")


def validated_custom_headers(raw_headers: Any) -> dict[str, str]:
    """Extra headers as strings; refuses any that would replace the credentials set in `credentials`."""
    if raw_headers in (None, "", {}):
        return {}
    if isinstance(raw_headers, str):
        try:
            raw_headers = json.loads(raw_headers)
        except ValueError:
            raw_headers = None
    if not isinstance(raw_headers, Mapping):
        raise ValueError("custom_headers must be a JSON object of header names to values.")
    refused = sorted(
        n for n in raw_headers if str(n).strip().lower() in ("authorization", "proxy-authorization", "cookie")
    )
    if refused:
        raise ValueError(
            f"custom_headers may not set {', '.join(refused)}: credentials belong in `credentials`, "
            "so a header cannot silently replace them. Remove the header from custom_headers."
        )
    return {str(name): str(value) for name, value in raw_headers.items()}


def raise_config_problem(config: Mapping[str, Any]) -> None:
    """Stops a read (or discover) whose config `NormaliseConfluenceConfig` could not normalise."""
    if config.get(CONFIG_PROBLEM_KEY):
        raise config_error(str(config[CONFIG_PROBLEM_KEY]))


# -------------------------------------------------------------------------------------------------------- counting
def _n(count: int, singular: str, plural: str = "") -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


@dataclass
class SyncStats:
    """What one read has done so far; components on worker threads count into it under the lock."""

    pages: int = 0
    empty_bodies: int = 0
    capped: int = 0
    spaces_done: int = 0
    requests: int = 0
    retries: int = 0
    restricted: int = 0
    excluded: int = 0
    access_requests: int = 0
    started: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    summarised: bool = False

    def reset(self) -> None:
        with self._lock:
            self.pages = self.empty_bodies = self.capped = self.spaces_done = self.requests = self.retries = 0
            self.restricted = self.excluded = self.access_requests = 0
            self.started, self.summarised = time.monotonic(), False

    def first_summary(self) -> bool:
        """True once per read: the CDK logs a failure twice (the read processor, then the entrypoint)."""
        with self._lock:
            first, self.summarised = not self.summarised, True
        return first

    def count(self, **increments: int) -> None:
        with self._lock:
            for name, step in increments.items():
                setattr(self, name, getattr(self, name) + step)

    def admit_page(self, max_pages: int | None) -> bool:
        """Reserve a slot for one more page; False once `max_pages` pages were admitted."""
        with self._lock:
            if max_pages and self.pages >= max_pages:
                self.capped += 1
                return False
            self.pages += 1
            pages_now = self.pages
        if pages_now % PROGRESS_EVERY_PAGES == 0:
            seconds = max(time.monotonic() - self.started, 1e-9)
            logger.info(
                f"Progress: {_n(pages_now, 'page')} so far ({pages_now / seconds:.1f}/s), {_n(self.spaces_done, 'space')}"
                f" done, {_n(self.requests, 'request')}, {_n(self.retries, 'retry', 'retries')}."
            )
        return True

    def summary_line(self, failed: bool = False) -> str:
        capped = f", {_n(self.capped, 'page')} skipped by max_pages" if self.capped else ""
        return (
            f"{'Sync FAILED after' if failed else 'Sync summary:'} {_n(self.pages, 'page')} read from "
            f"{_n(self.spaces_done, 'space')} in {_n(self.requests, 'request')} with "
            f"{_n(self.retries, 'retry', 'retries')} in {time.monotonic() - self.started:.1f} s; "
            f"{_n(self.empty_bodies, 'page')} had an empty body{capped}{self._access_part()}."
        )

    def _access_part(self) -> str:
        if not (self.access_requests or self.restricted):
            return ""
        excluded = f", {self.excluded} left out by restricted_pages: exclude" if self.excluded else ""
        return (
            f"; {_n(self.restricted, 'page')} restricted (internal){excluded}, access read in "
            f"{_n(self.access_requests, 'request')}"
        )


SYNC_STATS = SyncStats()


class SummaryOnSyncEnd(logging.Handler):
    """Logs the summary when the CDK logs the end of a read. No declarative component sees a read end, but the
    CDK's concurrent source logs "Finished syncing" after the last stream, or the failed streams before it raises
    (airbyte-cdk 7.39.1 wording; unit_tests/source/test_retries.py fails if it changes)."""

    _FAILED = "During the sync, the following streams did not sync successfully"

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == logger.name:
            return
        message = record.getMessage()
        if (message == "Finished syncing" or message.startswith(self._FAILED)) and SYNC_STATS.first_summary():
            failed = message != "Finished syncing"
            (logger.warning if failed else logger.info)(SYNC_STATS.summary_line(failed=failed))

    @classmethod
    def install(cls) -> None:
        """One handler, this module's: an earlier copy of this module (code injected by another source in the same
        process) would log a second summary from counts this read does not update."""
        airbyte_logger = logging.getLogger("airbyte")
        for handler in [h for h in airbyte_logger.handlers if type(h).__name__ == cls.__name__]:
            airbyte_logger.removeHandler(handler)
        airbyte_logger.addHandler(cls(level=logging.INFO))


# ------------------------------------------------------------------------------------------------------------ HTTP
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


_PARSED_BODY = "_confluence_parsed_body"


def response_body_problem(response: requests.Response) -> tuple[str, FailureType] | None:
    """Why a 2xx answer is not a page of results (message, failure type), or None (and the body is kept decoded).
    A body declaring JSON (or no type) that does not parse was cut off: transient. Anything else (an HTML login or
    proxy page, plain text) means base_url does not reach the Confluence API: a config error."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        setattr(response, _PARSED_BODY, body)
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
    body is not a JSON object; after the last retry the sync fails naming the path and what came instead."""

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
        SYNC_STATS.count(retries=1)
        outcome = response_or_exception
        if isinstance(outcome, requests.Response):
            cause = f"{'a body that is not a JSON object (' if outcome.ok else '('}HTTP {outcome.status_code})"
        else:
            cause = type(outcome).__name__
        logger.info(f"Retrying {request_path(outcome)} after {cause} in {delay:.2f}s (attempt {attempt_count}).")
        compensated = delay - _CDK_EXTRA_SLEEP_SECONDS
        return compensated if compensated != 0 else -1e-9


# --------------------------------------------------------------------------------------------------------- records
@dataclass
class ConfluenceResultsExtractor(RecordExtractor):
    """Yields `results` of a Confluence list response, each with the envelope's `_links.base` attached, and counts
    requests (and, for `pages`, finished spaces). Refuses to build for a config that could not be normalised."""

    config: Config
    parameters: InitVar[Mapping[str, Any]] = None
    counts_space_completion: bool = False

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        raise_config_problem(self.config)
        register_derived_secrets(self.config)  # built per command, after the entrypoint replaced the secret list

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        problem = None if hasattr(response, _PARSED_BODY) else response_body_problem(response)
        if problem is not None:  # only without ConfluenceErrorHandler, which retries these answers
            raise AirbyteTracedException(message=problem[0], internal_message=problem[0], failure_type=problem[1])
        body = getattr(response, _PARSED_BODY)
        links = body.get("_links") or {}
        SYNC_STATS.count(requests=1, spaces_done=int(self.counts_space_completion and not links.get("next")))
        for record in body.get("results") or []:
            record[LINK_BASE_KEY] = links.get("base")
            yield record


@dataclass
class MaxPagesFilter(RecordFilter):
    """Passes pages until `max_pages` (if set) were passed in this read, across all spaces and worker threads. Built
    once per read (with the `pages` stream), so it starts the read's counts and hooks the summary."""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        SYNC_STATS.reset()
        PEOPLE.reset()  # names and page trees are data of one sync: a renamed user shows the new name next time
        PAGE_TREE.reset()
        SHARED_ACCESS.reset()  # permissions are data of one sync too
        SummaryOnSyncEnd.install()

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: StreamSlice | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        max_pages = int(self.config.get("max_pages") or 0) or None
        exclude = self.config.get("restricted_pages", "internal") == "exclude"
        for record in records:
            if exclude and record.get("restricted", True):
                SYNC_STATS.count(excluded=1)
                continue  # `restricted_pages: exclude` (the selector filters after the transformations)
            if SYNC_STATS.admit_page(max_pages):
                yield record


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


@dataclass
class PageRecordShaper(RecordTransformation):
    """Rewrites a page of REST v2 (`api_version: v2`, Cloud) or REST v1 (`v1`, Data Center) into the `pages`
    record of docs/CONTRACTS.md, copying the storage body untouched (YAML would re-parse a body that looks like a
    Python literal). `visibility` is added after it, by the manifest's one rule."""

    config: Config = field(default_factory=dict)
    parameters: InitVar[Mapping[str, Any]] = None
    api_version: str = "v2"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        if self.api_version not in ("v1", "v2"):
            raise ValueError(f"PageRecordShaper.api_version must be v1 or v2, not {self.api_version!r}")

    def transform(
        self,
        record: MutableMapping[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        link_base = record.pop(LINK_BASE_KEY, None) or (config or self.config).get("normalised_site_base") or ""
        shaped = self._from_v2(record, stream_slice) if self.api_version == "v2" else self._from_v1(record)
        shaped["version"] = int(shaped["version"]) if shaped["version"] is not None else None
        shaped["body_storage"] = ((record.get("body") or {}).get("storage") or {}).get("value")
        shaped["webui"] = (record.get("_links") or {}).get("webui")
        if not isinstance(shaped["body_storage"], str) or shaped["body_storage"] == "":
            shaped["body_storage"] = ""
            SYNC_STATS.count(empty_bodies=1)
            logger.info(
                f'Page {shaped["id"]} ({shaped["space_key"]}) has no storage body; emitted with body_storage "".'
            )
        shaped["webui_url"] = (link_base.rstrip("/") + shaped["webui"]) if shaped["webui"] else None
        labels = ((record.get("metadata") or {}).get("labels") or {}).get("results")
        if labels is not None:  # REST v1 with expand=metadata.labels (asked for only when labels are wanted)
            shaped["labels"] = [str(label.get("name")) for label in labels if label.get("name")]
        add_people_and_ancestors(shaped, config or self.config, self.api_version, record)
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
            "space_id": _text(page.get("spaceId") or partition.get("space_id")),
            "space_key": space.get("key"),
            "space_name": space.get("name"),
            "space_type": space.get("type"),
            "parent_id": _text(page.get("parentId")),
            "ancestors": [],
            "author_id": page.get("authorId"),
            "created_at": page.get("createdAt"),
            "updated_at": version.get("createdAt") or page.get("createdAt"),
            "version": version.get("number"),
        }

    @staticmethod
    def _from_v1(page: Mapping[str, Any]) -> dict[str, Any]:
        space, version, history = page.get("space") or {}, page.get("version") or {}, page.get("history") or {}
        ancestors = page.get("ancestors") or []
        first = version.get("number") == 1
        creator = history.get("createdBy") or (version.get("by") if first else None) or {}
        return {
            "id": str(page["id"]),
            "title": page.get("title"),
            "status": page.get("status"),
            "space_id": _text(space.get("id")),
            "space_key": space.get("key"),
            "space_name": space.get("name"),
            "space_type": space.get("type"),
            "parent_id": _text(ancestors[-1].get("id")) if ancestors else None,
            "ancestors": [ancestor.get("title") for ancestor in ancestors],
            "author_id": creator.get("accountId") or creator.get("userKey") or creator.get("username"),
            "created_at": history.get("createdDate") or (version.get("when") if first else None),
            "updated_at": version.get("when"),
            "version": version.get("number"),
        }


# ------------------------------------------------------------------------------------------- people and page trees
_MENTION = re.compile(r"<ri:user\b[^<>]*?\bri:(account-id|userkey|username)\s*=\s*\"([^\"<>]*)\"")
UNKNOWN_USER = "Unknown user"  # an id Confluence does not answer for: readable, never the raw id
FORMER_USER = "Former user"  # a deactivated or closed account without a name
V2_USERS_BULK_MAX = 250


def mentioned_users(body: str) -> list[tuple[str, str]]:
    """(kind, id) of every `ri:user` in a storage body, in order, once each: kind is account-id, userkey or username."""
    return list(dict.fromkeys((kind, value) for kind, value in _MENTION.findall(body or "") if value))


def display_name(user: Mapping[str, Any]) -> str:
    """A user object's name as Confluence shows it; a deactivated account is marked, a nameless one is a placeholder."""
    name = str(user.get("displayName") or user.get("publicName") or "").strip()
    if str(user.get("accountStatus") or "active") != "active":
        return f"{name} (deactivated)" if name and name != FORMER_USER else FORMER_USER
    return name or UNKNOWN_USER


class PeopleDirectory:
    """Display names by account id (Cloud) or user key / username (Data Center), for one sync: every unknown id is
    looked up once, in bulk where the API has it (Cloud v2 `POST /users-bulk`, 250 ids a request; Data Center has no
    bulk call: `GET /rest/api/user?key=` or `?username=`, one per id). An id Confluence does not answer for, or a failed
    look-up, becomes `Unknown user` (logged once), so a sync never stops over a name."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._names.clear()

    def names(self, config: Mapping[str, Any], wanted: Iterable[tuple[str, str]]) -> dict[str, str]:
        wanted = list(dict.fromkeys(wanted))
        with self._lock:
            unknown = [(kind, value) for kind, value in wanted if value not in self._names]
            if unknown:
                self._names.update(self._look_up(config, unknown))
            return {value: self._names[value] for _, value in wanted if value in self._names}

    def _look_up(self, config: Mapping[str, Any], unknown: list[tuple[str, str]]) -> dict[str, str]:
        probe = _Probe(config)
        found: dict[str, str] = {}
        root = str(config.get("normalised_api_root") or "")
        if config.get("deployment", CLOUD) == CLOUD:
            ids = [value for _, value in unknown]
            for start in range(0, len(ids), V2_USERS_BULK_MAX):
                answer = probe.post(f"{root}/users-bulk", {"accountIds": ids[start : start + V2_USERS_BULK_MAX]})
                SYNC_STATS.count(requests=1)
                if isinstance(answer, requests.Response) and answer.ok and _is_json(answer):
                    for user in answer.json().get("results") or []:
                        if user.get("accountId"):
                            found[str(user["accountId"])] = display_name(user)
                else:
                    logger.warning(
                        f"User names could not be looked up ({_describe(answer)}); mentions read '{UNKNOWN_USER}'."
                    )
        else:
            for kind, value in unknown:
                parameter = "username" if kind == "username" else "key"
                answer = probe.get(f"{root}/user", params={parameter: value})
                SYNC_STATS.count(requests=1)
                if isinstance(answer, requests.Response) and answer.ok and _is_json(answer):
                    found[value] = display_name(answer.json())
        return {value: found.get(value, UNKNOWN_USER) for _, value in unknown}


class PageTree:
    """Title and parent of every page of a space, for ancestors on Cloud (REST v2 pages carry only `parentId`): the
    pages the sync already listed, and, when a parent is not among them, one light listing of the space (ids,
    titles and parents, no bodies, 250 a request). Never a request per page."""

    def __init__(self) -> None:
        self._pages: dict[str, tuple[str, str | None]] = {}
        self._listed: set[str] = set()
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._pages.clear()
            self._listed.clear()

    def remember(self, page_id: str, title: str, parent_id: str | None) -> None:
        with self._lock:
            self._pages[page_id] = (title, parent_id)

    def ancestors(self, config: Mapping[str, Any], space_id: str, parent_id: str | None) -> tuple[list[str], list[str]]:
        """(titles, ids) of the ancestors, root first; stops at a parent that cannot be found (or a cycle)."""
        titles: list[str] = []
        ids: list[str] = []
        with self._lock:
            current = parent_id
            while current and current not in ids:
                if current not in self._pages and space_id and space_id not in self._listed:
                    self._list_space(config, space_id)
                if current not in self._pages:
                    break
                title, parent = self._pages[current]
                titles.append(title)
                ids.append(current)
                current = parent
        return titles[::-1], ids[::-1]

    def _list_space(self, config: Mapping[str, Any], space_id: str) -> None:
        self._listed.add(space_id)
        probe = _Probe(config)
        url: str | None = f"{config.get('normalised_api_root')}/spaces/{quote(space_id)}/pages"
        params: dict[str, Any] | None = {"limit": 250}
        while url:
            answer = probe.get(url, params=params)
            if not (isinstance(answer, requests.Response) and answer.ok and _is_json(answer)):
                logger.warning(f"Space {space_id} could not be listed for ancestors ({_describe(answer)}).")
                return
            body = answer.json()
            SYNC_STATS.count(requests=1)
            for page in body.get("results") or []:
                self._pages[str(page["id"])] = (str(page.get("title") or ""), _text(page.get("parentId")))
            following = (body.get("_links") or {}).get("next")
            url, params = (str(config.get("normalised_origin") or "") + following, None) if following else (None, None)


PEOPLE = PeopleDirectory()
PAGE_TREE = PageTree()


def add_people_and_ancestors(
    shaped: dict[str, Any], config: Mapping[str, Any], api_version: str, raw: Mapping[str, Any]
) -> None:
    """Fills `ancestors`/`ancestor_ids` on Cloud, `author_name`, and `user_names` (every mentioned id -> name)."""
    if api_version == "v2":
        PAGE_TREE.remember(shaped["id"], str(shaped.get("title") or ""), shaped.get("parent_id"))
        shaped["ancestors"], shaped["ancestor_ids"] = PAGE_TREE.ancestors(
            config, str(shaped.get("space_id") or ""), shaped.get("parent_id")
        )
    else:
        shaped["ancestor_ids"] = [str(a.get("id")) for a in raw.get("ancestors") or [] if a.get("id") is not None]
    mentions = mentioned_users(shaped.get("body_storage") or "")
    author = shaped.get("author_id")
    creator = (raw.get("history") or {}).get("createdBy") or {}  # v1 names the creator itself
    wanted = mentions + (
        [("userkey" if api_version == "v1" else "account-id", str(author))]
        if author and not creator.get("displayName")
        else []
    )
    names = PEOPLE.names(config, wanted) if wanted else {}
    shaped["author_name"] = creator.get("displayName") or (names.get(str(author)) if author else None)
    shaped["user_names"] = {value: names[value] for _, value in mentions if value in names}


# ---------------------------------------------------------------------------------------------------------- access
# Confluence's read-access rule. A user may read a page iff (1) they may view the space: a space read permission given
# to them, to one of their groups, or to anonymous users; and (2) at every restricted level on the path from the root
# to the page (the page itself and each ancestor with a read restriction) they are named, directly or through one of
# their groups. A record's `readers` are tokens an index filters on: `user:<account id>` (Data Center: user key),
# `group:<name>` (every member may read), `anonymous` (anyone may). A searcher reads a record iff its `readers` share
# a token with {user:X, group:G.., anonymous}. Unknown membership or permissions only ever remove tokens.
ANYONE = "anonymous"


def user_token(account_id: str) -> str:
    return f"user:{account_id}"


def group_token(name: str) -> str:
    return f"group:{name}"


@dataclass(frozen=True)
class ReadGrant:
    """Principals named by a space's read permission or by one page's read restriction (`anonymous`: spaces only)."""

    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    anonymous: bool = False

    @property
    def restricts(self) -> bool:
        """A page restriction that names nobody does not restrict (Confluence drops empty restrictions)."""
        return bool(self.users or self.groups)


def restricted_levels(
    page_id: str, parent_of: Mapping[str, str | None], restriction_of: Mapping[str, ReadGrant]
) -> list[ReadGrant]:
    """The read restrictions on the path root -> page (the page included), root first; unrestricted levels left out.

    A parent that is not in `parent_of` ends the path (its own parent is unknown): callers that cannot see the whole
    path must treat the page as restricted (see `path_complete`)."""
    levels: list[ReadGrant] = []
    seen: set[str] = set()
    current: str | None = page_id
    while current is not None and current not in seen:
        seen.add(current)
        grant = restriction_of.get(current)
        if grant is not None and grant.restricts:
            levels.append(grant)
        current = parent_of.get(current)
    return list(reversed(levels))


def path_complete(page_id: str, parent_of: Mapping[str, str | None]) -> bool:
    """True when every ancestor of the page is known (in `parent_of`) and the path has no cycle."""
    seen: set[str] = set()
    current: str | None = page_id
    while current is not None:
        if current in seen or current not in parent_of:
            return False
        seen.add(current)
        current = parent_of[current]
    return True


def readers(space: ReadGrant, levels: Sequence[ReadGrant], members: Mapping[str, frozenset[str]]) -> list[str]:
    """Sorted tokens of the principals that may read a page whose space grants `space` and whose path carries the
    restrictions `levels`; `members` maps the group names whose membership is known to their account ids."""
    if space.anonymous and not levels:
        return [ANYONE]
    everyone_named = [space, *levels]
    candidates: set[str] = set()
    for grant in everyone_named:
        candidates |= grant.users
        for group in grant.groups:
            candidates |= members.get(group, frozenset())
    groups_of: dict[str, set[str]] = {user: set() for user in candidates}
    for group, accounts in members.items():
        for account in accounts:
            if account in groups_of:
                groups_of[account].add(group)

    def named(grant: ReadGrant, user: str) -> bool:
        return user in grant.users or bool(groups_of[user] & grant.groups)

    tokens = [
        user_token(user)
        for user in candidates
        if (space.anonymous or named(space, user)) and all(named(level, user) for level in levels)
    ]
    whole_groups = set(space.groups) | (set().union(*(level.groups for level in levels)) if levels else set())
    tokens += [
        group_token(group)
        for group in whole_groups
        if (space.anonymous or group in space.groups) and all(group in level.groups for level in levels)
    ]
    return sorted(tokens)


# ---- reading access from Confluence (one space at a time, a request or two per space and per group) ---------------
RESTRICTION_EXPAND = "restrictions.read.restrictions.user,restrictions.read.restrictions.group,ancestors"
ACCESS_PAGE_SIZE = 100  # v1 caps content listings at 100 per request
MEMBERS_PAGE_SIZE = 200  # Confluence's fixed limit for group members


@dataclass
class SpaceAccess:
    """What was learnt about one space: its read grant, each page's parent and own read restriction, and why any
    of it could not be read (`problems`, each naming the request and the HTTP status)."""

    grant: ReadGrant | None = None
    parent_of: dict[str, str | None] = field(default_factory=dict)
    restriction_of: dict[str, ReadGrant] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


Getter = Callable[[str, Mapping[str, Any] | None], Any]
"""GET with the sync's credentials and retries: the `requests.Response`, or the exception after the last retry."""


class AccessReader:
    """Reads and caches access per space and group membership per group, for the page records of one sync.

    Cloud: restrictions from CQL `/wiki/rest/api/content/search` with the `restrictions.read.restrictions.*`
    expansions, space grants from v2 `/spaces/{id}/permissions` (v2 reports no anonymous access: none is assumed),
    members from `/group/{groupId}/membersByGroupId`. Data Center: restrictions from `/rest/api/content` with the same
    expansions, space grants from `/rest/api/space/{key}?expand=permissions` (with `anonymousAccess`), members from
    `/rest/api/group/{name}/member`. Every answer that is not a 200 JSON body leaves that part unknown."""

    def __init__(self, get: Getter, *, cloud: bool, origin: str, site_base: str, blog_posts: bool = False) -> None:
        self.get, self.cloud, self.origin, self.site_base = get, cloud, origin.rstrip("/"), site_base.rstrip("/")
        self.blog_posts = blog_posts  # also list blog posts' restrictions (one more listing per space)
        self.v1_root = f"{self.site_base}/rest/api"
        self._spaces: dict[str, SpaceAccess] = {}
        self._members: dict[str, frozenset[str] | None] = {}
        self._group_ids: dict[str, str] = {}
        self._lock = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self.warnings: list[str] = []

    # ---- per page ------------------------------------------------------------------------------------------------
    def page_access(self, page_id: str, space_key: str, space_id: str | None) -> tuple[bool, list[str]]:
        """(restricted, readers) of one page; anything that could not be read makes it restricted (fail closed)."""
        space = self.space(space_key, space_id)
        known = space.grant is not None and not space.problems and path_complete(page_id, space.parent_of)
        levels = restricted_levels(page_id, space.parent_of, space.restriction_of)
        groups = set(space.grant.groups if space.grant else ()) | {g for level in levels for g in level.groups}
        members = {group: self.members(group) for group in sorted(groups)}
        known_members = {group: accounts for group, accounts in members.items() if accounts is not None}
        if not known or space.grant is None:
            return True, []
        tokens = readers(space.grant, levels, known_members)
        if tokens == [ANYONE]:  # open to anyone: no membership changes that
            return False, tokens
        return bool(levels) or len(known_members) < len(members), tokens

    # ---- per space -------------------------------------------------------------------------------------------------
    def space(self, space_key: str, space_id: str | None) -> SpaceAccess:
        """The space's access, read once per sync (workers reading other spaces do not wait for it)."""
        with self._lock_for(("space", space_key)):
            cached = self._spaces.get(space_key)
            if cached is None:
                cached = self._read_space(space_key, space_id)
                for problem in cached.problems:
                    self._warn(problem)
                self._spaces[space_key] = cached
            return cached

    def _lock_for(self, key: tuple[str, str]) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())

    def _read_space(self, space_key: str, space_id: str | None) -> SpaceAccess:
        access = SpaceAccess()
        self._read_restrictions(space_key, access)
        access.grant = self.space_grant(space_key, space_id, access)
        return access

    def space_grant(self, space_key: str, space_id: str | None, access: SpaceAccess) -> ReadGrant | None:
        if self.cloud:
            return self._cloud_space_grant(space_key, space_id, access)
        return self._dc_space_grant(space_key, access)

    def restrictions_request(self, space_key: str, content_type: str = "page") -> tuple[str, dict[str, Any]]:
        """URL and parameters listing a space's pages (or blog posts) with their own read restrictions and their
        ancestors."""
        if self.cloud:
            cql = f'type = {content_type} and space = "{_cql_quote(space_key)}"'
            return f"{self.v1_root}/content/search", {
                "cql": cql,
                "expand": RESTRICTION_EXPAND,
                "limit": ACCESS_PAGE_SIZE,
            }
        params = {"spaceKey": space_key, "type": content_type, "expand": RESTRICTION_EXPAND, "limit": ACCESS_PAGE_SIZE}
        return f"{self.v1_root}/content", params

    def _read_restrictions(self, space_key: str, access: SpaceAccess) -> None:
        for content_type in ("page", "blogpost") if self.blog_posts else ("page",):
            url, params = self.restrictions_request(space_key, content_type)
            self._read_restriction_listing(space_key, url, params, access)

    def _read_restriction_listing(
        self, space_key: str, url: str, params: Mapping[str, Any], access: SpaceAccess
    ) -> None:
        for body in self._v1_pages(url, params, access, f"read restrictions of space {space_key}"):
            for content in body.get("results") or []:
                page_id = str(content.get("id"))
                ancestors = content.get("ancestors") or []
                access.parent_of[page_id] = str(ancestors[-1].get("id")) if ancestors else None
                read = ((content.get("restrictions") or {}).get("read") or {}).get("restrictions") or {}
                users = frozenset(_user_id(u) for u in (read.get("user") or {}).get("results") or [])
                groups = (read.get("group") or {}).get("results") or []
                for group in groups:
                    if group.get("id"):
                        self._group_ids.setdefault(str(group.get("name")), str(group["id"]))
                grant = ReadGrant(users - {""}, frozenset(str(g.get("name")) for g in groups if g.get("name")))
                if grant.restricts:
                    access.restriction_of[page_id] = grant
                if _more_than_listed(read):
                    access.problems.append(
                        f"page {page_id} in space {space_key} names more users or groups than one answer lists"
                    )

    def _cloud_space_grant(self, space_key: str, space_id: str | None, access: SpaceAccess) -> ReadGrant | None:
        if not space_id:
            access.problems.append(f"space {space_key} has no id to read its permissions with")
            return None
        url: str | None = f"{self.origin}/wiki/api/v2/spaces/{space_id}/permissions"
        params: Mapping[str, Any] | None = {"limit": 250}
        users: set[str] = set()
        group_ids: set[str] = set()
        while url:
            body = self.fetch_json(url, params, access, f"read permissions of space {space_key}")
            if body is None:
                return None
            for assignment in body.get("results") or []:
                operation = assignment.get("operation") or {}
                principal = assignment.get("principal") or {}
                if operation.get("key") != "read" or operation.get("targetType") != "space":
                    continue
                if principal.get("type") == "user":
                    users.add(str(principal.get("id")))
                elif principal.get("type") == "group":
                    group_ids.add(str(principal.get("id")))
            next_link = (body.get("_links") or {}).get("next")
            url, params = (f"{self.origin}{next_link}", None) if next_link else (None, None)
        names = {self._group_name(group_id, access) for group_id in sorted(group_ids)}
        if None in names:
            return None
        return ReadGrant(frozenset(users), frozenset(n for n in names if n))

    def _group_name(self, group_id: str, access: SpaceAccess) -> str | None:
        for name, known_id in self._group_ids.items():
            if known_id == group_id:
                return name
        body = self.fetch_json(f"{self.v1_root}/group/by-id", {"id": group_id}, access, f"name group {group_id}")
        if body is None or not body.get("name"):
            return None
        self._group_ids[str(body["name"])] = group_id
        return str(body["name"])

    def _dc_space_grant(self, space_key: str, access: SpaceAccess) -> ReadGrant | None:
        what = f"read permissions of space {space_key}"
        body = self.fetch_json(
            f"{self.v1_root}/space/{quote(space_key, safe='~')}", {"expand": "permissions"}, access, what
        )
        if body is None:
            return None
        if "permissions" not in body:
            access.problems.append(f"Confluence did not {what} (no `permissions` in the answer; space admin needed)")
            return None
        users: set[str] = set()
        groups: set[str] = set()
        anonymous = False
        for permission in body.get("permissions") or []:
            if (permission.get("operation") or {}) != {"operation": "read", "targetType": "space"}:
                continue
            anonymous = anonymous or bool(permission.get("anonymousAccess"))
            subjects = permission.get("subjects") or {}
            users |= {_user_id(u) for u in (subjects.get("user") or {}).get("results") or []}
            groups |= {str(g.get("name")) for g in (subjects.get("group") or {}).get("results") or []}
        return ReadGrant(frozenset(users - {""}), frozenset(groups), anonymous)

    # ---- per group -------------------------------------------------------------------------------------------------
    def members(self, group: str) -> frozenset[str] | None:
        """Account ids in `group`, or None when they cannot be read (then the group grants nobody by membership)."""
        with self._lock_for(("group", group)):
            if group not in self._members:
                self._members[group] = self._read_members(group)
            return self._members[group]

    def members_request(self, group: str) -> tuple[str, dict[str, Any]]:
        """URL and parameters of the first page of a group's members."""
        if self.cloud and group in self._group_ids:
            return f"{self.v1_root}/group/{quote(self._group_ids[group], safe='')}/membersByGroupId", {
                "limit": MEMBERS_PAGE_SIZE
            }
        if self.cloud:
            return f"{self.v1_root}/group/member", {"name": group, "limit": MEMBERS_PAGE_SIZE}
        return f"{self.v1_root}/group/{quote(group, safe='')}/member", {"limit": MEMBERS_PAGE_SIZE}

    def _read_members(self, group: str) -> frozenset[str] | None:
        sink = SpaceAccess()
        url, params = self.members_request(group)
        accounts: set[str] = set()
        for body in self._v1_pages(url, params, sink, f"list the members of group {group}"):
            accounts |= {_user_id(u) for u in body.get("results") or []}
        for problem in sink.problems:
            self._warn(problem)
        return None if sink.problems else frozenset(accounts - {""})

    # ---- HTTP --------------------------------------------------------------------------------------------------------
    def _v1_pages(
        self, url: str, params: Mapping[str, Any] | None, access: SpaceAccess, what: str
    ) -> Iterator[dict[str, Any]]:
        """Every page of a v1 list, following `_links.next` (joined to `_links.base`); stops at the first failure."""
        next_url: str | None = url
        while next_url:
            body = self.fetch_json(next_url, params, access, what)
            if body is None:
                return
            yield body
            links = body.get("_links") or {}
            next_url = (
                f"{str(links.get('base') or self.site_base).rstrip('/')}{links['next']}" if links.get("next") else None
            )
            params = None

    def fetch_json(
        self, url: str, params: Mapping[str, Any] | None, access: SpaceAccess, what: str
    ) -> dict[str, Any] | None:
        outcome = self.get(url, params)
        path = urlsplit(url).path
        if isinstance(outcome, Exception):
            access.problems.append(f"could not {what}: {type(outcome).__name__} on {path} after retries")
            return None
        if outcome.status_code != 200:
            access.problems.append(f"could not {what}: HTTP {outcome.status_code} on {path}")
            return None
        try:
            body = outcome.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            access.problems.append(f"could not {what}: {path} did not answer a JSON object")
            return None
        return body

    def _warn(self, problem: str) -> None:
        message = f"Access: {problem}; the pages it concerns are treated as restricted (visibility internal)."
        self.warnings.append(message)
        logger.warning(message)


def _user_id(user: Mapping[str, Any]) -> str:
    """Cloud: accountId; Data Center: userKey (stable across renames), else username."""
    return str(user.get("accountId") or user.get("userKey") or user.get("username") or "")


def _more_than_listed(read: Mapping[str, Any]) -> bool:
    """Restriction answers page their users and groups; a full page may hide more names: not complete."""
    for part in ("user", "group"):
        listed = read.get(part) or {}
        limit = listed.get("limit")
        if limit and len(listed.get("results") or []) >= int(limit):
            return True
    return False


def _cql_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def access_check_sentence(reader: AccessReader, space_key: str, space_id: str | None) -> str | None:
    """One sentence for `check` when the credentials cannot read who may see pages (None when they can): what could
    not be read and what a sync assumes instead. A few requests: one space's permission, one restriction listing
    answer, one group's first members."""
    probe = SpaceAccess()
    restrictions_url, params = reader.restrictions_request(space_key)
    reader.fetch_json(restrictions_url, {**params, "limit": 1}, probe, f"read restrictions of space {space_key}")
    grant = reader.space_grant(space_key, space_id, probe)
    for group in sorted(grant.groups if grant else ())[:1]:
        url, member_params = reader.members_request(group)
        reader.fetch_json(url, {**(member_params or {}), "limit": 1}, probe, f"list the members of group {group}")
    if not probe.problems:
        return None
    more = f" and {len(probe.problems) - 1} more" if len(probe.problems) > 1 else ""
    return (
        f"These credentials cannot read who may see every page ({probe.problems[0]}{more}): such pages will be "
        "treated as restricted, with visibility internal and readable only by people whose access could be "
        "confirmed, never public."
    )


class SharedAccess:
    """The read's one `AccessReader`, shared by the pages and blog posts streams (each builds its own transformation),
    so each space and each group is read once per read whatever the number of streams, pages and threads."""

    def __init__(self) -> None:
        self._reader: AccessReader | None = None
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._reader = None

    def reader(self, config: Config) -> AccessReader:
        with self._lock:
            if self._reader is None:
                probe = _Probe(config)

                def counted_get(url: str, params: Mapping[str, Any] | None) -> Any:
                    SYNC_STATS.count(access_requests=1)
                    return probe.get(url, params)

                self._reader = AccessReader(
                    counted_get,
                    cloud=config.get("deployment", CLOUD) == CLOUD,
                    origin=config["normalised_origin"],
                    site_base=config["normalised_site_base"],
                    blog_posts=bool(config.get("include_blog_posts")),
                )
            return self._reader


SHARED_ACCESS = SharedAccess()


@dataclass
class PageAccessFields(RecordTransformation):
    """Adds `restricted` and `readers` to a shaped page or blog post record (docs/CONTRACTS.md), with access read in
    bulk by the read's shared `AccessReader`. With `read_permissions: false` nothing is read and every record is
    restricted with no readers (fail closed)."""

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
        if not config.get("read_permissions", True) or not record.get("space_key"):
            record["restricted"], record["readers"] = True, []
            SYNC_STATS.count(restricted=1)
            return
        restricted, tokens = SHARED_ACCESS.reader(config).page_access(
            str(record["id"]), str(record["space_key"]), _text(record.get("space_id"))
        )
        record["restricted"], record["readers"] = restricted, tokens
        if restricted:
            SYNC_STATS.count(restricted=1)


def access_check_warning(config: Mapping[str, Any]) -> str | None:
    """For `check`: one sentence when these credentials cannot read who may see pages (None when they can or when
    `read_permissions` is off), probing the first configured (or listed) space."""
    if not config.get("read_permissions", True):
        return None
    probe, cloud = _Probe(config), config.get("deployment", CLOUD) == CLOUD
    keys = [str(key) for key in config.get("space_keys") or []]
    params: dict[str, Any] = {"limit": 1, **({"keys": keys[0]} if cloud and keys else {})}
    if keys and not cloud:
        params["spaceKey"] = keys[0]
    answer = probe.get(config["normalised_api_root"] + ("/spaces" if cloud else "/space"), params)
    if not _is_json(answer) or answer.status_code != 200:  # type: ignore[union-attr]
        return None  # the connection check itself reports this
    spaces = answer.json().get("results") or []  # type: ignore[union-attr]
    if not spaces:
        return None
    reader = AccessReader(
        probe.get, cloud=cloud, origin=config["normalised_origin"], site_base=config["normalised_site_base"]
    )
    return access_check_sentence(reader, str(spaces[0].get("key")), _text(spaces[0].get("id")))


# ----------------------------------------------------------------------------------------------------------- check
class _Probe:
    """GETs with the sync's credentials, custom headers, timeout and bounded retries; the response or the error."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.session = requests.Session()
        credentials = config.get("credentials") or {}
        if credentials.get("auth_type") == "bearer":
            self.session.headers["Authorization"] = f"Bearer {credentials.get('token', '')}"
        else:
            self.session.auth = (credentials.get("username", ""), credentials.get("api_token", ""))
        self.session.headers["Accept"] = "application/json"
        self.session.headers.update(config.get("normalised_custom_headers") or {})
        seconds = float(config.get("request_timeout_seconds") or DEFAULT_TIMEOUT_SECONDS)
        self.timeout = (seconds, seconds)  # connect, read: as the CDK's requester sends it
        self.backoff = RetryAfterCappedBackoff(config=config)

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> requests.Response | requests.RequestException:
        return self.request("GET", url, params=params)

    def post(self, url: str, body: Any) -> requests.Response | requests.RequestException:
        return self.request("POST", url, json=body)

    def request(self, method: str, url: str, **options: Any) -> requests.Response | requests.RequestException:
        retries = int(self.config.get("max_retries", 5))
        for attempt in range(1, retries + 2):
            try:
                outcome: Any = self.session.request(method, url, timeout=self.timeout, **options)
            except requests.RequestException as error:
                outcome = error
            else:
                if outcome.status_code not in _RETRYABLE and not _truncated_json(outcome):
                    return outcome
            if attempt <= retries:
                time.sleep(self.backoff.delay_seconds(outcome, attempt))
        return outcome


def _is_json(answer: Any) -> bool:
    if not isinstance(answer, requests.Response) or "json" not in answer.headers.get("Content-Type", "json").lower():
        return False
    try:
        answer.json()
    except ValueError:
        return False
    return True


def _truncated_json(response: requests.Response) -> bool:
    return response.ok and "json" in response.headers.get("Content-Type", "json").lower() and not _is_json(response)


def _describe(outcome: Any) -> str:
    if isinstance(outcome, requests.RequestException):
        return f"a {type(outcome).__name__}"
    return f"HTTP {outcome.status_code} ({outcome.headers.get('Content-Type', 'no content type').split(';')[0]})"


def diagnose_connection(config: Mapping[str, Any]) -> tuple[bool, str]:
    """(succeeded, one sentence): the first problem found probing the configured site, or what will be read."""
    if config.get(CONFIG_PROBLEM_KEY):
        return False, str(config[CONFIG_PROBLEM_KEY])
    probe, cloud = _Probe(config), config.get("deployment", CLOUD) == CLOUD
    site, kind = config["normalised_site_base"], "Confluence Cloud" if cloud else "Confluence Data Center"
    answer = probe.get(config["normalised_api_root"] + ("/spaces" if cloud else "/space"), {"limit": 1})
    if isinstance(answer, requests.RequestException):
        return False, (
            f"Could not reach {config['normalised_origin']} ({_describe(answer)} after retries): "
            "check base_url and that the host is reachable."
        )
    if answer.status_code == 401:
        return False, (
            f"{kind} at {site} rejected the credentials (HTTP 401): check the username/e-mail and API "
            "token, or the personal access token."
        )
    if answer.status_code == 403:
        return False, (
            f"{kind} at {site} refused access (HTTP 403): the account in credentials may not use the "
            "REST API or read spaces."
        )
    if _truncated_json(answer):
        return False, (
            f"{kind} at {site} answered {request_path(answer)} with malformed (truncated) JSON on every "
            "attempt: a proxy or the network cuts responses off; check them and try again."
        )
    if answer.status_code != 200 or not _is_json(answer):
        return False, _not_confluence(probe, config, cloud, answer)
    missing = _unreadable_space_keys(probe, config, cloud)
    if missing:
        return False, (
            f"Space key(s) {', '.join(missing)} do not exist on {site} or are not readable by this "
            "account: fix space_keys (keys are case-sensitive) or grant access."
        )
    keys = config.get("space_keys")
    spaces = f"spaces {', '.join(keys)} are readable" if keys else "every readable space will be read"
    return True, f"Connected to {kind} at {site}; {spaces}."


def _not_confluence(probe: _Probe, config: Mapping[str, Any], cloud: bool, answer: requests.Response) -> str:
    """Why the API path did not answer with JSON: the other deployment type, or not Confluence at all."""
    other_url = (
        config["normalised_v1_api_root"] + "/space" if cloud else config["normalised_origin"] + "/wiki/api/v2/spaces"
    )
    other = probe.get(other_url, {"limit": 1})
    seen = f"{request_path(answer)} answered {_describe(answer)}"
    if _is_json(other) and other.status_code in (200, 401, 403):  # type: ignore[union-attr]
        if cloud:
            return (
                f"{config['base_url']} has no Confluence Cloud REST v2 API ({seen}) but answers REST v1: this "
                "looks like Data Center; set deployment to data_center."
            )
        return (
            f"{config['base_url']} has no REST v1 API ({seen}) but answers Confluence Cloud REST v2: this looks "
            "like Confluence Cloud; set deployment to cloud."
        )
    return (
        f"{config['base_url']} does not look like Confluence: {seen} instead of JSON; check base_url (and its "
        "context path) and deployment."
    )


def _unreadable_space_keys(probe: _Probe, config: Mapping[str, Any], cloud: bool) -> list[str]:
    wanted, api_root = [str(key) for key in config.get("space_keys") or []], config["normalised_api_root"]
    if not cloud:
        return [k for k in wanted if not _is_json(probe.get(f"{api_root}/space/{quote(k, safe='~')}"))]
    found: set[str] = set()
    url, params = api_root + "/spaces", {"keys": wanted, "limit": 250}
    while wanted and url and not set(wanted) <= found:
        answer = probe.get(url, params)
        if not _is_json(answer) or answer.status_code != 200:  # type: ignore[union-attr]
            break
        body = answer.json()  # type: ignore[union-attr]
        found.update(str(space.get("key")) for space in body.get("results") or [])
        next_link = (body.get("_links") or {}).get("next")
        url, params = (urljoin(config["normalised_origin"] + "/", next_link), None) if next_link else (None, None)
    return [key for key in wanted if key not in found]


@dataclass
class DiagnoseConnection(SinglePartitionRouter):
    """Partition router of the check-only stream: before its one request, probe the site and fail the check with
    one sentence that names the cause (credentials, not Confluence, the other deployment type, unknown space). A
    `CheckStream` alone can only say that reading a stream failed; the manifest schema has no custom check."""

    config: Config = field(default_factory=dict)

    def stream_slices(self) -> Iterable[StreamSlice]:
        register_derived_secrets(self.config)  # the entrypoint replaced the secret list after the transformation
        succeeded, message = diagnose_connection(self.config)
        if not succeeded:
            raise config_error(message)
        logger.info(message)
        warning = access_check_warning(self.config)
        if warning:
            logger.warning(warning)
        yield from super().stream_slices()


# ------------------------------------------------------------------------ blog posts, comments, attachments, labels
ATTACHMENT_SUFFIXES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".json": "application/json",
}
"""A file name's suffix decides when Confluence reports a generic media type (application/octet-stream)."""
DEFAULT_ATTACHMENT_MEDIA_TYPES = sorted(set(ATTACHMENT_SUFFIXES.values()))
DEFAULT_ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
_GENERIC_MEDIA_TYPES = {"", "application/octet-stream", "binary/octet-stream"}


def labels_wanted(config: Mapping[str, Any]) -> bool:
    """Labels are read (an extra request per page and blog post on Cloud) only when asked for or filtered on."""
    return bool(config.get("read_labels") or config.get("include_labels") or config.get("exclude_labels"))


def labels_admit(labels: Any, config: Mapping[str, Any]) -> bool:
    """include_labels: at least one of them; exclude_labels: none of them. Names compare case-insensitively."""
    names = {str(label).lower() for label in labels or []}
    include = {str(label).lower() for label in config.get("include_labels") or []}
    exclude = {str(label).lower() for label in config.get("exclude_labels") or []}
    return (not include or bool(names & include)) and not (names & exclude)


def attachment_verdict(media_type: Any, title: Any, size: Any, config: Mapping[str, Any]) -> str | None:
    """`unsupported_type` or `too_large` from the listing alone (such files are never downloaded), else None."""
    allowed = {str(t).lower() for t in config.get("attachment_media_types") or DEFAULT_ATTACHMENT_MEDIA_TYPES}
    reported = str(media_type or "").split(";", 1)[0].strip().lower()
    suffix = "." + str(title or "").rsplit(".", 1)[-1].lower() if "." in str(title or "") else ""
    effective = ATTACHMENT_SUFFIXES.get(suffix, "") if reported in _GENERIC_MEDIA_TYPES else reported
    if effective not in allowed:
        return "unsupported_type"
    limit = int(config.get("attachment_max_bytes") or DEFAULT_ATTACHMENT_MAX_BYTES)
    if isinstance(size, int) and size > limit:
        return "too_large"
    return None


def _absolute(base: str, path: Any) -> str | None:
    return (base.rstrip("/") + str(path)) if path else None


def _cursor_time(value: Any) -> str | None:
    """ISO 8601 in one fixed form (microseconds, Z), so cursor values compare as strings and equal the state."""
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _link_base(record: MutableMapping[str, Any], config: Mapping[str, Any]) -> str:
    return str(record.pop(LINK_BASE_KEY, None) or config.get("normalised_site_base") or "")


def _v1_container(item: Mapping[str, Any]) -> tuple[str | None, str | None]:
    container = item.get("container") or {}
    kind = container.get("type")
    return _text(container.get("id")), ("blogpost" if kind == "blogpost" else "page" if kind else None)


@dataclass
class CommentRecordShaper(RecordTransformation):
    """A footer or inline comment of REST v2 (the site-wide lists; `kind` from the partition) or REST v1 (CQL
    search with container, ancestors and extensions expanded) -> the `comments` record of docs/CONTRACTS.md."""

    config: Config = field(default_factory=dict)
    parameters: InitVar[Mapping[str, Any]] = None
    api_version: str = "v2"

    def transform(
        self,
        record: MutableMapping[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        base = _link_base(record, config or self.config)
        version = record.get("version") or {}
        body = ((record.get("body") or {}).get("storage") or {}).get("value")
        shaped: dict[str, Any] = {"id": str(record["id"]), "title": record.get("title"), "status": record.get("status")}
        if self.api_version == "v2":
            partition: Mapping[str, Any] = getattr(stream_slice, "partition", None) or {}
            on_page = record.get("pageId") is not None
            properties = record.get("properties") or {}
            shaped.update(
                {
                    "container_id": _text(record.get("pageId") or record.get("blogPostId")),
                    "container_type": "page" if on_page else "blogpost",
                    "kind": partition.get("kind") or "footer",
                    "parent_comment_id": _text(record.get("parentCommentId")),
                    "author_id": version.get("authorId"),
                    "created_at": version.get("createdAt") if version.get("number") == 1 else None,
                    "resolved": (record.get("resolutionStatus") == "resolved")
                    if "resolutionStatus" in record
                    else None,
                    "highlighted_text": properties.get("inlineOriginalSelection")
                    if isinstance(properties, Mapping)
                    else None,
                }
            )
        else:
            container_id, container_type = _v1_container(record)
            extensions = record.get("extensions") or {}
            ancestors = [a for a in record.get("ancestors") or [] if a.get("type") == "comment"]
            creator = (record.get("history") or {}).get("createdBy") or {}
            kind = "inline" if extensions.get("location") == "inline" else "footer"
            shaped.update(
                {
                    "container_id": container_id,
                    "container_type": container_type,
                    "kind": kind,
                    "parent_comment_id": _text(ancestors[-1].get("id")) if ancestors else None,
                    "author_id": creator.get("accountId") or creator.get("userKey") or creator.get("username"),
                    "created_at": (record.get("history") or {}).get("createdDate"),
                    "resolved": ((extensions.get("resolution") or {}).get("status") == "resolved")
                    if kind == "inline"
                    else None,
                    "highlighted_text": (extensions.get("inlineProperties") or {}).get("originalSelection"),
                    "space_key": (record.get("space") or {}).get("key"),
                }
            )
        shaped["updated_at"] = version.get("createdAt") or version.get("when")
        shaped["version"] = version.get("number")
        shaped["body_storage"] = body if isinstance(body, str) else ""
        shaped["webui_url"] = _absolute(base, (record.get("_links") or {}).get("webui"))
        record.clear()
        record.update(shaped)


@dataclass
class AttachmentRecordShaper(RecordTransformation):
    """An attachment of REST v2 (`/attachments`) or REST v1 (CQL search) -> the `attachments` record: metadata,
    absolute download and web links, and `extraction` when the listing alone rules the file out."""

    config: Config = field(default_factory=dict)
    parameters: InitVar[Mapping[str, Any]] = None
    api_version: str = "v2"

    def transform(
        self,
        record: MutableMapping[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        config = config or self.config
        base = _link_base(record, config)
        version = record.get("version") or {}
        links = record.get("_links") or {}
        if self.api_version == "v2":
            on_page = record.get("pageId") is not None
            shaped = {
                "container_id": _text(record.get("pageId") or record.get("blogPostId")),
                "container_type": "page" if on_page else "blogpost",
                "media_type": record.get("mediaType"),
                "file_size": record.get("fileSize"),
                "created_at": record.get("createdAt"),
                "comment": record.get("comment"),
                "download": record.get("downloadLink") or links.get("download"),
                "webui": record.get("webuiLink") or links.get("webui"),
            }
        else:
            container_id, container_type = _v1_container(record)
            extensions = record.get("extensions") or {}
            shaped = {
                "container_id": container_id,
                "container_type": container_type,
                "media_type": extensions.get("mediaType") or (record.get("metadata") or {}).get("mediaType"),
                "file_size": extensions.get("fileSize"),
                "created_at": (record.get("history") or {}).get("createdDate"),
                "comment": extensions.get("comment"),
                "download": links.get("download"),
                "webui": links.get("webui"),
                "space_key": (record.get("space") or {}).get("key"),
            }
        shaped.update({"id": str(record["id"]), "title": record.get("title"), "status": record.get("status")})
        shaped["version"] = version.get("number")
        shaped["updated_at"] = version.get("createdAt") or version.get("when")
        shaped["content_cursor"] = _cursor_time(shaped["updated_at"])
        shaped["download_url"] = _absolute(base, shaped.pop("download"))
        shaped["webui_url"] = _absolute(base, shaped.pop("webui"))
        size = shaped["file_size"]
        shaped["file_size"] = int(size) if isinstance(size, int | float | str) and str(size).isdigit() else None
        shaped["extraction"] = attachment_verdict(shaped["media_type"], shaped["title"], shaped["file_size"], config)
        record.clear()
        record.update(shaped)


@dataclass
class LabelsFromApi(RecordTransformation):
    """Adds `labels` (names) to a page or blog post of REST v2 with one request to `/{pages|blogposts}/{id}/labels`,
    only when labels are wanted (read_labels, include_labels or exclude_labels). REST v1 records carry them from
    `expand=metadata.labels` instead (PageRecordShaper). Retries 429/5xx like the streams, honouring Retry-After."""

    config: Config = field(default_factory=dict)
    parameters: InitVar[Mapping[str, Any]] = None
    content_path: str = "pages"
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def transform(
        self,
        record: MutableMapping[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        config = config or self.config
        if not labels_wanted(config) or "labels" in record:
            return
        url = f"{config['normalised_api_root']}/{self.content_path}/{record['id']}/labels?limit=250"
        names: list[str] = []
        while url:
            body = self._get(url, config)
            names += [str(label.get("name")) for label in body.get("results") or [] if label.get("name")]
            next_link = (body.get("_links") or {}).get("next")
            url = (config["normalised_origin"] + next_link) if next_link else ""
        record["labels"] = names

    def _get(self, url: str, config: Mapping[str, Any]) -> Mapping[str, Any]:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers.update(dict(config.get("normalised_custom_headers") or {}))
            credentials = config.get("credentials") or {}
            if credentials.get("auth_type") == "bearer":
                session.headers["Authorization"] = f"Bearer {credentials.get('token')}"
            else:
                session.auth = (credentials.get("username"), credentials.get("api_token"))
        timeout = float(config.get("request_timeout_seconds") or DEFAULT_TIMEOUT_SECONDS)
        backoff = RetryAfterCappedBackoff(config=config)
        attempts = int(config.get("max_retries", 5)) + 1
        for attempt in range(1, attempts + 1):
            outcome: Any
            try:
                outcome = session.get(url, timeout=timeout)
                SYNC_STATS.count(requests=1)
                if outcome.ok and response_body_problem(outcome) is None:
                    return outcome.json()
                if outcome.status_code not in _RETRYABLE and outcome.ok is False:
                    break
            except requests.RequestException as error:
                outcome = error
            if attempt < attempts:
                time.sleep(backoff.delay_seconds(outcome, attempt))
        message = f"Could not read the labels at {urlsplit(url).path} after {attempts} attempts."
        raise AirbyteTracedException(
            message=message, internal_message=message, failure_type=FailureType.transient_error
        )


@dataclass
class LabelScopeFilter(MaxPagesFilter):
    """Drops pages and blog posts outside include_labels / exclude_labels (the selector transforms before filtering,
    so `labels` is there), then, with `counts_pages`, applies `max_pages` as `MaxPagesFilter` does."""

    counts_pages: bool = True

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: StreamSlice | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        scoped = (record for record in records if labels_admit(record.get("labels"), self.config))
        if not self.counts_pages:  # blog posts: `restricted_pages: exclude` applies to them too, max_pages does not
            exclude = self.config.get("restricted_pages", "internal") == "exclude"
            for record in scoped:
                if exclude and record.get("restricted", True):
                    SYNC_STATS.count(excluded=1)
                    continue
                yield record
            return
        yield from super().filter_records(scoped, stream_state, stream_slice, next_page_token)
