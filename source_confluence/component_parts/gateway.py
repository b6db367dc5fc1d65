"""Atlassian's API gateway, `https://api.atlassian.com/ex/confluence/{cloudId}`: the only door for scoped API tokens
and OAuth 2.0 tokens (a site URL answers them 401 "scope does not match"). The cloudId of a site comes from
`https://<site>/_edge/tenant_info`; browser links stay on the site's own URL, never the gateway's."""

import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from source_confluence.component_parts.common import DEFAULT_TIMEOUT_SECONDS

DEFAULT_GATEWAY_URL = "https://api.atlassian.com"
GATEWAY_AUTH_TYPES = ("scoped_token", "oauth2_client_credentials", "oauth2_refresh_token")
"""Credentials that work only through the gateway: with a site URL the source finds the cloudId and goes there."""

SCOPES_CLASSIC = (
    "read:confluence-space.summary",
    "read:confluence-content.all",
    "read:confluence-content.summary",
    "read:confluence-content.permission",
    "read:confluence-user",
    "read:confluence-groups",
    "search:confluence",
    "readonly:content.attachment:confluence",
)
"""Classic scopes that cover every request the source makes (README "Scoped API tokens" lists the same)."""
SCOPES_GRANULAR = (
    "read:space:confluence",
    "read:page:confluence",
    "read:blogpost:confluence",
    "read:comment:confluence",
    "read:attachment:confluence",
    "read:label:confluence",
    "read:content-details:confluence",
    "read:content.restriction:confluence",
    "read:space.permission:confluence",
    "read:user:confluence",
    "read:group:confluence",
    "readonly:content.attachment:confluence",
)
"""Granular scopes for the same requests: v2 lists, CQL search, restrictions, space permissions, people, groups,
attachment downloads."""

_GATEWAY_PATH = re.compile(r"^/ex/confluence/([0-9A-Za-z-]+)(?:/.*)?$")
_CLOUD_IDS: dict[str, str] = {}
_LOCK = threading.Lock()


def gateway_url(config: Mapping[str, Any]) -> str:
    """The gateway's root: `api_gateway_url` (for proxies and tests), else Atlassian's."""
    return str(config.get("api_gateway_url") or DEFAULT_GATEWAY_URL).rstrip("/")


def pasted_gateway(base_url: str) -> tuple[str, str] | None:
    """(`https://api.atlassian.com/ex/confluence/{cloudId}`, cloudId) when `base_url` is a gateway URL, else None."""
    text = base_url.strip()
    parts = urlsplit(text if "://" in text else "https://" + text)
    match = _GATEWAY_PATH.match(parts.path.rstrip("/") or "/")
    if not match or parts.scheme not in ("http", "https"):
        return None
    return f"{parts.scheme}://{parts.netloc}/ex/confluence/{match.group(1)}", match.group(1)


def gateway_urls(prefix: str, site_origin: str | None) -> dict[str, str]:
    """The `normalised_*` URLs for requests through the gateway `prefix`; browser links on `site_origin`'s wiki (or,
    when the site is not known, on each answer's `_links.base`, which the gateway fills with the site's URL)."""
    return {
        "origin": prefix,
        "site_base": f"{site_origin}/wiki" if site_origin else "",
        "api_site_base": prefix + "/wiki",
        "api_root": prefix + "/wiki/api/v2",
        "v1_api_root": prefix + "/wiki/rest/api",
        "gateway": prefix,
    }


def cloud_id_of(site_origin: str, config: Mapping[str, Any]) -> str:
    """The site's cloudId from `<site>/_edge/tenant_info` (no credentials needed); ValueError says why not."""
    with _LOCK:
        if site_origin in _CLOUD_IDS:
            return _CLOUD_IDS[site_origin]
    url = f"{site_origin}/_edge/tenant_info"
    timeout = float(config.get("request_timeout_seconds") or DEFAULT_TIMEOUT_SECONDS)
    try:
        answer = requests.get(url, headers=dict(config.get("normalised_custom_headers") or {}), timeout=timeout)
        cloud_id = answer.json().get("cloudId") if answer.ok else None
    except (requests.RequestException, ValueError, AttributeError) as error:
        raise ValueError(
            f"Could not find the cloud id of {site_origin} ({type(error).__name__} on /_edge/tenant_info), which "
            "scoped tokens and OAuth need to reach Atlassian's API gateway: check base_url, or paste the gateway "
            "URL https://api.atlassian.com/ex/confluence/<cloudId> as base_url."
        ) from None
    if not cloud_id:
        raise ValueError(
            f"{site_origin}/_edge/tenant_info answered HTTP {answer.status_code} without a cloudId: is base_url a "
            "Confluence Cloud site? Scoped tokens and OAuth work only with Cloud (through Atlassian's API gateway)."
        )
    with _LOCK:
        _CLOUD_IDS[site_origin] = str(cloud_id)
    return str(cloud_id)


def is_scope_mismatch(response: Any) -> bool:
    """A 401 whose body says "scope does not match": a scoped token used on a site URL, or one lacking a scope
    (`{"code": 401, "message": "Unauthorized; scope does not match"}`, mcp-atlassian #968, md2conf #281)."""
    if not isinstance(response, requests.Response) or response.status_code != 401:
        return False
    return "scope does not match" in response.text.lower()


def scopes_sentence() -> str:
    return f"classic scopes {', '.join(SCOPES_CLASSIC)}; or granular scopes {', '.join(SCOPES_GRANULAR)}"
