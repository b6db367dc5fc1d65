"""The connector's config, normalised once: the site's API roots from whatever `base_url` a user typed, the
custom headers checked, derived secrets masked, and a config problem recorded for check (raised by a read)."""

import base64
import json
from collections.abc import Mapping, MutableMapping
from dataclasses import InitVar, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airbyte_cdk.sources.declarative.transformations.config_transformations.config_transformation import (
    ConfigTransformation,
)
from airbyte_cdk.sources.types import Config
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets

from source_confluence.component_parts.common import CLOUD, DATA_CENTER, config_error
from source_confluence.component_parts.gateway import (
    GATEWAY_AUTH_TYPES,
    cloud_id_of,
    gateway_url,
    gateway_urls,
    pasted_gateway,
)

CONFIG_PROBLEM_KEY = "normalised_config_problem"


def normalise_site_urls(base_url: str, deployment: str) -> dict[str, str]:
    """`origin` (where API paths are joined: v2 `next` links are rooted there), `site_base` (the site's wiki root,
    for browser links), `api_site_base` (the wiki root requests go to: v1 `next` links are relative to it),
    `api_root` and `v1_api_root`, for whatever a user typed as `base_url` (a bare host, `/wiki`, an API URL, a
    Data Center context path); ValueError says why a URL cannot name a Confluence site."""
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
            "api_site_base": origin + "/wiki",
            "api_root": origin + "/wiki/api/v2",
            "v1_api_root": given + "/rest/api",
        }
    return {
        "origin": origin,
        "site_base": given,
        "api_site_base": given,
        "api_root": given + "/rest/api",
        "v1_api_root": given + "/rest/api",
    }


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
            config["normalised_custom_headers"] = validated_custom_headers(config.get("custom_headers"))
            urls = api_urls(config)
        except ValueError as error:
            # Raised here, the error would stop the CDK before `check` could answer with a FAILED status.
            config[CONFIG_PROBLEM_KEY] = str(error)
            return
        config.update({f"normalised_{name}": url for name, url in urls.items()})


def api_urls(config: Mapping[str, Any]) -> dict[str, str]:
    """Where requests go and links point: the site itself, or Atlassian's gateway for a pasted gateway URL and for
    credentials that work only there (scoped tokens, OAuth), whose cloudId `tenant_info` gives."""
    base_url, deployment = str(config["base_url"]), str(config.get("deployment") or CLOUD)
    auth_type = (config.get("credentials") or {}).get("auth_type")
    pasted = pasted_gateway(base_url)
    if pasted is not None:
        if deployment != CLOUD:
            raise ValueError(
                "base_url is an Atlassian API gateway URL, which serves Confluence Cloud: set deployment to cloud."
            )
        return gateway_urls(pasted[0], None)
    urls = normalise_site_urls(base_url, deployment)
    if auth_type not in GATEWAY_AUTH_TYPES:
        return urls
    if deployment != CLOUD:
        raise ValueError(
            f"credentials.auth_type {auth_type} works only with Confluence Cloud (through Atlassian's API gateway); "
            "for Data Center use a personal access token (auth_type bearer)."
        )
    cloud_id = cloud_id_of(urls["origin"], config)
    return gateway_urls(f"{gateway_url(config)}/ex/confluence/{cloud_id}", urls["origin"])


def register_derived_secrets(config: Mapping[str, Any]) -> None:
    """Masks what the CDK's log filter cannot know is secret: the Basic header value (base64 of user:token) that
    debug logs of requests print, and a legacy top-level `api_token` that the spec does not mark."""
    credentials = config.get("credentials") or {}
    for oauth_secret in ("client_secret", "refresh_token", "access_token"):
        if credentials.get(oauth_secret):
            add_to_secrets(str(credentials[oauth_secret]))
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
