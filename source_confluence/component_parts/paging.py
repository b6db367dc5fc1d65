"""Paging as Confluence servers really answer: one link-joining rule per API, a stop on an empty page whatever
`next` says, Data Center's offsets re-derived from what a page held, and a count check where the API gives a total.

The shapes (each seen from real servers, see docs/connecting.md "Paging"):
- REST v2 (Cloud): `_links.next` is site-rooted, `/wiki/api/v2/...?cursor=...`; nested listings (a page's labels,
  a space's permissions) have been seen without the `/wiki` prefix, `/api/v2/...`.
- REST v1: `_links.next` is relative to `_links.base`, which already ends in `/wiki` on Cloud (and in the context
  path on Data Center): `/rest/api/content/search?...`.
- Data Center caps `limit` silently (e.g. 25 or 100 whatever was asked) and the `start` of its next link can then be
  the old start plus the *requested* limit, skipping items (Onyx #4129, #11284; CONFSERVER-95272): the next start
  is always re-derived as this page's `start` + the number of results it held.
- Any of them may answer an empty page that still carries `next` (a reader that trusts it requests forever)."""

import logging
from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from airbyte_cdk.sources.declarative.interpolation import InterpolatedString
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import PaginationStrategy
from airbyte_cdk.sources.types import Config, Record, StreamSlice

from source_confluence.component_parts.common import logger
from source_confluence.component_parts.http import PARSED_BODY_ATTRIBUTE


class _CustomHandlerReducesPageSize(logging.Filter):
    """Drops the CDK's warning that a stream with `page_size_reduction` shows no REDUCE_PAGE_SIZE response filter:
    the CDK cannot see into a custom error handler, and `ConfluenceErrorHandler` is the one that resolves to it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "no response filter with the REDUCE_PAGE_SIZE action" not in record.getMessage()


logging.getLogger("airbyte.model_to_component_factory").addFilter(_CustomHandlerReducesPageSize())


def _path_and_query(link: str) -> str:
    """An absolute link reduced to its path and query: the host of a link is the server's view of itself, while
    requests go where the config says (the site, a proxy or Atlassian's gateway)."""
    parts = urlsplit(link)
    return urlunsplit(("", "", parts.path, parts.query, "")) if parts.scheme else link


def v2_next_url(api_origin: str, next_link: str) -> str:
    """REST v2: `next` is rooted at the site (`/wiki/api/v2/...`); a nested link without `/wiki` gets it back."""
    path = _path_and_query(next_link)
    if path.startswith("/api/v2/"):
        path = "/wiki" + path
    return api_origin.rstrip("/") + path


def v1_next_url(api_wiki_base: str, next_link: str, body: Mapping[str, Any] | None = None) -> str:
    """REST v1: `next` is relative to `_links.base` (the site's wiki root, `/wiki` on Cloud or the Data Center
    context path), joined here to the base requests go to. An offset link's `start` is re-derived from the page
    (`start` + results held): Data Center's own can skip items when it capped the page size."""
    path = _path_and_query(next_link)
    base_path = urlsplit(api_wiki_base).path.rstrip("/")
    if base_path and (path == base_path or path.startswith(base_path + "/")):
        path = path[len(base_path) :]  # a link that already carries the context path
    url = api_wiki_base.rstrip("/") + path
    start = (body or {}).get("start")
    if isinstance(start, int) and not isinstance(start, bool) and body is not None:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        if any(name == "start" for name, _ in query):
            held = len(body.get("results") or [])
            query = [(name, str(start + held) if name == "start" else value) for name, value in query]
            url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
    return url


def next_listing_url(
    body: Mapping[str, Any], api: str, config: Mapping[str, Any], what: str = "", seen: int | None = None
) -> str | None:
    """The URL of the listing's next page, or None at its end: no `next`, or an empty page whatever `next` says.
    At the end, a total the server reported that the listing (`seen` items in all) fell short of is logged as a
    warning naming it (`what`)."""
    links = body.get("_links") or {}
    results = body.get("results") or []
    next_link = links.get("next") if isinstance(links, Mapping) else None
    if not results or not next_link:
        check_count(body, what, seen)
        return None
    if api == "v2":
        return v2_next_url(str(config.get("normalised_origin") or ""), str(next_link))
    return v1_next_url(str(config.get("normalised_api_site_base") or ""), str(next_link), body)


def check_count(body: Mapping[str, Any], what: str, seen: int | None = None) -> str | None:
    """At a listing's end: a warning (logged, and returned) when the server's `totalSize` says it holds more than
    the listing gave (`seen`, else the last page's `start` + its results); None when there is no total or no gap."""
    total = body.get("totalSize")
    if not isinstance(total, int) or isinstance(total, bool):
        return None
    if seen is None:
        start = body.get("start") if isinstance(body.get("start"), int) else 0
        seen = int(start) + len(body.get("results") or [])
    if seen >= total:
        return None
    message = (
        f"The listing {what or '(unnamed)'} ended after {seen} of the {total} items Confluence reported "
        "(totalSize): items may be missing from this sync; run it again, and report it if it persists."
    )
    logger.warning(message)
    return message


def listing_name(response: requests.Response) -> str:
    """A listing named for a message: the request's path and CQL (never its headers)."""
    url = getattr(getattr(response, "request", None), "url", None) or getattr(response, "url", "") or ""
    parts = urlsplit(url)
    cql = dict(parse_qsl(parts.query)).get("cql")
    return parts.path + (f" (cql {cql})" if cql else "")


def cursor_of(next_link: str) -> str | None:
    """The opaque `cursor` of a v2 (or Cloud v1 search) next link, exactly as the server encoded it."""
    for name, value in parse_qsl(urlsplit(next_link).query, keep_blank_values=True):
        if name == "cursor":
            return value
    return None


@dataclass
class ConfluencePagination(PaginationStrategy):
    """The streams' paging. `api: v2` (Cloud): the next token is the `cursor` of `_links.next`, sent as a query
    parameter next to `limit`, so the CDK's page-size reduction (500/502/504 halve the page size) applies; `api: v1`
    (Data Center): the next `start` is this page's `start` + the results it held (never the server's link). Both
    stop on a page without results whatever `next` says, and on a cursor that repeats (no page is read twice), and
    check the listing against `totalSize` where the API gives one."""

    config: Config
    page_size: int | str
    api: str = "v2"
    parameters: InitVar[Mapping[str, Any]] = None
    _page_size: int = field(init=False, default=100)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        if self.api not in ("v1", "v2"):
            raise ValueError(f"ConfluencePagination.api must be v1 or v2, not {self.api!r}")
        size = InterpolatedString.create(str(self.page_size), parameters=parameters or {}).eval(self.config)
        self._page_size = int(size)

    @property
    def initial_token(self) -> Any | None:
        return None

    def get_page_size(self) -> int | None:
        return self._page_size

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Record | None,
        last_page_token_value: Any | None,
        page_size_override: int | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> Any | None:
        body = getattr(response, PARSED_BODY_ATTRIBUTE, None)
        if body is None:
            try:
                body = response.json()
            except ValueError:
                return None
        if not isinstance(body, Mapping):
            return None
        results = body.get("results") or []
        next_link = (body.get("_links") or {}).get("next")
        if not results or not next_link:
            if next_link and not results:
                logger.info(f"{listing_name(response)} answered an empty page that still links a next one: its end.")
            check_count(body, listing_name(response))
            return None
        if self.api == "v2":
            cursor = cursor_of(str(next_link))
            if cursor is None or cursor == last_page_token_value:
                logger.warning(
                    f"{listing_name(response)} linked a next page without a new cursor; the listing ends here."
                )
                return None
            return cursor
        start = body.get("start")
        if not isinstance(start, int) or isinstance(start, bool):
            start = int(last_page_token_value or 0)
        return start + len(results)
