"""`check`: one sentence that is either true success or the actionable cause of failure.

A manifest `CheckStream` can only say "reading stream X failed"; it cannot recognise a Data Center URL configured as
Cloud (v2 is absent but v1 answers) or name a missing space. So this module probes the API itself, with the same
credentials, headers, timeout and retry bounds as a sync, and maps each outcome to one sentence. No message ever
includes a header or credential; only URLs, statuses and space keys.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import requests

from source_confluence.components import RetryAfterCappedBackoff, request_path
from source_confluence.site_url import CLOUD

_RETRYABLE_STATUSES = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class CheckOutcome:
    succeeded: bool
    message: str


def _is_truncated_json(response: requests.Response) -> bool:
    """A 2xx that declares JSON but does not parse: cut off by a proxy or a dropped connection, worth a retry."""
    content_type = response.headers.get("Content-Type", "json").lower()
    return response.ok and "json" in content_type and not _is_json(response)


def _is_json(response: requests.Response) -> bool:
    try:
        response.json()
    except ValueError:
        return False
    return "json" in response.headers.get("Content-Type", "json").lower()


class ConfluenceProbe:
    """GETs with the sync's auth, custom headers, timeout and (bounded) retries; returns the response or the error."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = config
        self._session = requests.Session()
        credentials = config.get("credentials") or {}
        if credentials.get("auth_type") == "bearer":
            self._session.headers["Authorization"] = f"Bearer {credentials.get('token', '')}"
        else:
            self._session.auth = (credentials.get("username", ""), credentials.get("api_token", ""))
        self._session.headers["Accept"] = "application/json"
        self._session.headers.update(config.get("normalised_custom_headers") or {})
        self._timeout = float(config.get("request_timeout_seconds") or 60)
        self._backoff = RetryAfterCappedBackoff(config=config)
        self._max_retries = int(config.get("max_retries", 5))

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> requests.Response | requests.RequestException:
        outcome: requests.Response | requests.RequestException
        for attempt in range(1, self._max_retries + 2):
            try:
                outcome = self._session.get(url, params=params, timeout=self._timeout)
            except requests.RequestException as error:
                outcome = error
            else:
                if outcome.status_code not in _RETRYABLE_STATUSES and not _is_truncated_json(outcome):
                    return outcome
            if attempt <= self._max_retries:
                time.sleep(self._backoff.delay_seconds(outcome, attempt))
        return outcome


def _describe(outcome: requests.Response | requests.RequestException) -> str:
    if isinstance(outcome, requests.RequestException):
        return f"a {type(outcome).__name__}"
    content_type = outcome.headers.get("Content-Type", "no content type").split(";")[0]
    return f"HTTP {outcome.status_code} ({content_type})"


def check_connection(config: Mapping[str, Any]) -> CheckOutcome:
    """Probe the configured site and return the first problem found, or success."""
    probe = ConfluenceProbe(config)
    is_cloud = config.get("deployment", CLOUD) == CLOUD
    kind = "Confluence Cloud" if is_cloud else "Confluence Data Center"
    api_root = config["normalised_api_root"]
    spaces_url = api_root + ("/spaces" if is_cloud else "/space")
    answer = probe.get(spaces_url, {"limit": 1})

    if isinstance(answer, requests.RequestException):
        return CheckOutcome(
            False,
            f"Could not reach {config['normalised_origin']} ({_describe(answer)} after retries): check base_url and that the host is reachable.",
        )
    if answer.status_code == 401:
        return CheckOutcome(
            False,
            f"{kind} at {config['normalised_site_base']} rejected the credentials (HTTP 401): check the username/e-mail and API token, or the personal access token.",
        )
    if answer.status_code == 403:
        return CheckOutcome(
            False,
            f"{kind} at {config['normalised_site_base']} refused access (HTTP 403): the account in credentials may not use the REST API or read spaces.",
        )
    if _is_truncated_json(answer):
        return CheckOutcome(
            False,
            f"{kind} at {config['normalised_site_base']} answered {request_path(answer)} with malformed (truncated) JSON on every attempt: a proxy or the network cuts responses off; check them and try again.",
        )
    if answer.status_code != 200 or not _is_json(answer):
        return CheckOutcome(False, _not_confluence_reason(probe, config, is_cloud, spaces_url, answer))

    missing = list(_unreadable_space_keys(probe, config, is_cloud, api_root))
    if missing:
        return CheckOutcome(
            False,
            f"Space key(s) {', '.join(missing)} do not exist on {config['normalised_site_base']} or are not readable by this account: fix space_keys (keys are case-sensitive) or grant access.",
        )
    spaces = (
        f"spaces {', '.join(config['space_keys'])} are readable"
        if config.get("space_keys")
        else "every readable space will be read"
    )
    return CheckOutcome(True, f"Connected to {kind} at {config['normalised_site_base']}; {spaces}.")


def _not_confluence_reason(
    probe: ConfluenceProbe, config: Mapping[str, Any], is_cloud: bool, spaces_url: str, answer: requests.Response
) -> str:
    """Why the API path did not answer with JSON: the other deployment type, or not Confluence at all."""
    if is_cloud:
        other = probe.get(config["normalised_v1_api_root"] + "/space", {"limit": 1})
        if isinstance(other, requests.Response) and _is_json(other) and other.status_code in (200, 401, 403):
            return (
                f"{config['base_url']} has no Confluence Cloud REST v2 API ({request_path(answer)} answered {_describe(answer)}) "
                "but answers REST v1: this looks like Data Center; set deployment to data_center."
            )
    else:
        other = probe.get(config["normalised_origin"] + "/wiki/api/v2/spaces", {"limit": 1})
        if isinstance(other, requests.Response) and _is_json(other) and other.status_code in (200, 401, 403):
            return (
                f"{config['base_url']} has no REST v1 API at {request_path(answer)} ({_describe(answer)}) but answers "
                "Confluence Cloud REST v2: this looks like Confluence Cloud; set deployment to cloud."
            )
    return (
        f"{config['base_url']} does not look like Confluence: {request_path(answer)} answered {_describe(answer)} "
        "instead of JSON; check base_url (and its context path) and deployment."
    )


def _unreadable_space_keys(
    probe: ConfluenceProbe, config: Mapping[str, Any], is_cloud: bool, api_root: str
) -> Iterable[str]:
    wanted = [str(key) for key in config.get("space_keys") or []]
    if not wanted:
        return []
    if not is_cloud:
        return [key for key in wanted if not _dc_space_readable(probe, api_root, key)]
    found: set[str] = set()
    url: str | None = api_root + "/spaces"
    params: dict[str, Any] | None = {"keys": wanted, "limit": 250}
    while url and not set(wanted) <= found:
        answer = probe.get(url, params)
        if not isinstance(answer, requests.Response) or answer.status_code != 200 or not _is_json(answer):
            break
        body = answer.json()
        found.update(str(space.get("key")) for space in body.get("results") or [])
        next_link = (body.get("_links") or {}).get("next")
        url, params = (urljoin(config["normalised_origin"] + "/", next_link), None) if next_link else (None, None)
    return [key for key in wanted if key not in found]


def _dc_space_readable(probe: ConfluenceProbe, api_root: str, key: str) -> bool:
    answer = probe.get(f"{api_root}/space/{requests.utils.quote(key, safe='~')}")
    return isinstance(answer, requests.Response) and answer.status_code == 200 and _is_json(answer)
