"""Turn whatever a user typed as `base_url` into the three URLs the connector needs.

Users paste `yourcompany.atlassian.net`, `https://yourcompany.atlassian.net/wiki`, a Data Center URL with a context
path (`https://kb.example.com/confluence`) or a local `http://127.0.0.1:PORT`. Doing the normalisation once, here,
is what keeps every other part of the connector from building `/wiki/wiki` or losing a context path.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

CLOUD = "cloud"
DATA_CENTER = "data_center"
DEPLOYMENTS = (CLOUD, DATA_CENTER)

_LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
# Suffixes a user may paste from a browser or an API example; they are part of the API path, not of the site.
_API_SUFFIXES = ("/wiki/api/v2", "/api/v2", "/rest/api")


class SiteUrlError(ValueError):
    """The base URL cannot name a Confluence site; the message says why without echoing secrets."""


@dataclass(frozen=True)
class SiteUrls:
    """Where the site lives and where its REST API answers, for one deployment type."""

    origin: str
    """scheme://host[:port], the root that Cloud `_links.next` paths are joined to."""
    site_base: str
    """The site's wiki root: `<origin>/wiki` on Cloud, `<origin><context path>` on Data Center."""
    api_root: str
    """`<origin>/wiki/api/v2` (Cloud, REST v2) or `<site_base>/rest/api` (Data Center, REST v1)."""
    v1_api_root: str
    """REST v1 under the URL as given: used by `check` to recognise a Data Center site configured as Cloud."""


def normalise_site_urls(base_url: str, deployment: str) -> SiteUrls:
    """Normalise `base_url` for `deployment` (`cloud` or `data_center`)."""
    if deployment not in DEPLOYMENTS:
        raise SiteUrlError(f"deployment must be one of {', '.join(DEPLOYMENTS)}, not {deployment!r}.")
    text = (base_url or "").strip()
    if not text:
        raise SiteUrlError("base_url is empty; set it to your Confluence site, e.g. https://yourcompany.atlassian.net.")
    if "://" not in text:
        host_part = text.split("/", 1)[0].split(":", 1)[0]
        scheme = "http" if host_part in _LOCAL_HOSTS else "https"
        text = f"{scheme}://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SiteUrlError(f"base_url {base_url!r} is not an http(s) URL of a Confluence site.")
    if parts.username or parts.password:
        raise SiteUrlError("base_url must not contain a user name or password; put credentials in `credentials`.")
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    for suffix in _API_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    given_base = origin + path
    if deployment == CLOUD:
        # Cloud always serves the wiki under /wiki; any other path cannot be a Cloud site and is left for
        # `check` to diagnose (it probes v1 under the URL as given).
        site_base = origin + "/wiki"
        return SiteUrls(origin, site_base, origin + "/wiki/api/v2", given_base + "/rest/api")
    return SiteUrls(origin, given_base, given_base + "/rest/api", given_base + "/rest/api")
