"""`check`: probe the configured site and name the cause in one sentence (credentials, not Confluence, the other
deployment type, unknown space), and warn when these credentials cannot read who may see pages."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests
from airbyte_cdk.sources.declarative.partition_routers import SinglePartitionRouter
from airbyte_cdk.sources.types import Config, StreamSlice

from source_confluence.component_parts.access_reader import AccessReader, SpaceAccess
from source_confluence.component_parts.common import CLOUD, config_error, logger, optional_text
from source_confluence.component_parts.config import CONFIG_PROBLEM_KEY, register_derived_secrets
from source_confluence.component_parts.gateway import is_scope_mismatch, scopes_sentence
from source_confluence.component_parts.http import Probe, describe_outcome, is_json, request_path, truncated_json
from source_confluence.component_parts.oauth import DEFAULT_TOKEN_URL, is_oauth, shared_oauth
from source_confluence.component_parts.paging import next_listing_url


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
    if grant is None and space_key in reader.declared:
        return (
            f"These credentials cannot read who may see every page ({probe.problems[0]}{more}): for space "
            f"{space_key} the readers declared in declared_space_readers are used instead, and pages whose access "
            "cannot be read otherwise are treated as restricted (internal), never public."
        )
    return (
        f"These credentials cannot read who may see every page ({probe.problems[0]}{more}): such pages will be "
        "treated as restricted, with visibility internal and readable only by people whose access could be "
        "confirmed, never public; an admin may declare a space's readers in declared_space_readers."
    )


def access_check_warning(config: Mapping[str, Any]) -> str | None:
    """For `check`: one sentence when these credentials cannot read who may see pages (None when they can or when
    `read_permissions` is off), probing the first configured (or listed) space."""
    if not config.get("read_permissions", True):
        return None
    probe, cloud = Probe(config), config.get("deployment", CLOUD) == CLOUD
    keys = [str(key) for key in config.get("space_keys") or []]
    params: dict[str, Any] = {"limit": 1, **({"keys": keys[0]} if cloud and keys else {})}
    if keys and not cloud:
        params["spaceKey"] = keys[0]
    answer = probe.get(config["normalised_api_root"] + ("/spaces" if cloud else "/space"), params)
    if not is_json(answer) or answer.status_code != 200:  # type: ignore[union-attr]
        return None  # the connection check itself reports this
    spaces = answer.json().get("results") or []  # type: ignore[union-attr]
    if not spaces:
        return None
    reader = AccessReader(
        probe.get,
        cloud=cloud,
        origin=config["normalised_origin"],
        site_base=config["normalised_api_site_base"],
        request=probe.request,
        declared_readers=config.get("declared_space_readers") or {},
    )
    return access_check_sentence(reader, str(spaces[0].get("key")), optional_text(spaces[0].get("id")))


def diagnose_connection(config: Mapping[str, Any]) -> tuple[bool, str]:
    """(succeeded, one sentence): the first problem found probing the configured site, or what will be read."""
    if config.get(CONFIG_PROBLEM_KEY):
        return False, str(config[CONFIG_PROBLEM_KEY])
    probe, cloud = Probe(config), config.get("deployment", CLOUD) == CLOUD
    site = config["normalised_site_base"] or config["normalised_origin"]
    kind = "Confluence Cloud" if cloud else "Confluence Data Center"
    if config.get("normalised_gateway"):
        kind += " (through Atlassian's API gateway)"
    token_problem = oauth_token_problem(config)
    if token_problem:
        return False, token_problem
    answer = probe.get(config["normalised_api_root"] + ("/spaces" if cloud else "/space"), {"limit": 1})
    if isinstance(answer, requests.RequestException):
        return False, (
            f"Could not reach {config['normalised_origin']} ({describe_outcome(answer)} after retries): "
            "check base_url and that the host is reachable."
        )
    if is_scope_mismatch(answer):
        return False, _scope_sentence(config, site)
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
    if truncated_json(answer):
        return False, (
            f"{kind} at {site} answered {request_path(answer)} with malformed (truncated) JSON on every "
            "attempt: a proxy or the network cuts responses off; check them and try again."
        )
    if answer.status_code != 200 or not is_json(answer):
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


def oauth_token_problem(config: Mapping[str, Any]) -> str | None:
    """For OAuth credentials: why no access token could be had from the token endpoint (None when one was)."""
    if not is_oauth(config):
        return None
    token_url = (config.get("credentials") or {}).get("token_url") or DEFAULT_TOKEN_URL
    try:
        shared_oauth(config).get_access_token()
    except requests.HTTPError as error:
        status = error.response.status_code if error.response is not None else "an error"
        return (
            f"The OAuth token endpoint {token_url} refused these credentials (HTTP {status}): check client_id and "
            "client_secret (and, for a 3LO app, the refresh token), and token_url."
        )
    except requests.RequestException as error:
        return f"Could not reach the OAuth token endpoint {token_url} ({type(error).__name__}): check token_url."
    except Exception as error:  # noqa: BLE001 - the CDK's own sentence (e.g. a refresh token already used)
        return str(getattr(error, "message", None) or error)
    return None


def _scope_sentence(config: Mapping[str, Any], site: str) -> str:
    """A 401 "scope does not match": a scoped token sent to the site itself, or one lacking a scope."""
    if not config.get("normalised_gateway"):
        return (
            f'{site} answered HTTP 401 "scope does not match": this is a scoped API token, which Atlassian accepts '
            "only through its API gateway. Set credentials.auth_type to scoped_token (the source then finds the "
            "cloud id and goes through the gateway), or paste https://api.atlassian.com/ex/confluence/<cloudId> as "
            "base_url. The e-mail and token are not wrong."
        )
    return (
        f'Atlassian\'s API gateway answered HTTP 401 "scope does not match" for {site}: the token lacks a scope '
        f"this source needs. Create a token with these scopes: {scopes_sentence()}."
    )


def _not_confluence(probe: Probe, config: Mapping[str, Any], cloud: bool, answer: requests.Response) -> str:
    """Why the API path did not answer with JSON: the other deployment type, or not Confluence at all."""
    other_url = (
        config["normalised_v1_api_root"] + "/space" if cloud else config["normalised_origin"] + "/wiki/api/v2/spaces"
    )
    other = probe.get(other_url, {"limit": 1})
    seen = f"{request_path(answer)} answered {describe_outcome(answer)}"
    if is_json(other) and other.status_code in (200, 401, 403):  # type: ignore[union-attr]
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


def _unreadable_space_keys(probe: Probe, config: Mapping[str, Any], cloud: bool) -> list[str]:
    wanted, api_root = [str(key) for key in config.get("space_keys") or []], config["normalised_api_root"]
    if not cloud:
        return [k for k in wanted if not is_json(probe.get(f"{api_root}/space/{quote(k, safe='~')}"))]
    found: set[str] = set()
    url, params = api_root + "/spaces", {"keys": wanted, "limit": 250}
    while wanted and url and not set(wanted) <= found:
        answer = probe.get(url, params)
        if not is_json(answer) or answer.status_code != 200:  # type: ignore[union-attr]
            break
        body = answer.json()  # type: ignore[union-attr]
        found.update(str(space.get("key")) for space in body.get("results") or [])
        url, params = next_listing_url(body, "v2", config, "spaces named in space_keys"), None
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
