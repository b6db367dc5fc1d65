"""The "real server" mode: list answers shaped the way real Confluence servers send them, where they differ from
Atlassian's OpenAPI documents. Each quirk is off by default and names where the shape was seen.

Applied around the stand-in's own routing (`server.py`): a request may be refused or its query rewritten first, and
a list answer (a body with `results` and `_links`) rewritten after. Bodies keep the documented fields and types, so
the OpenAPI validation of the stand-in still holds; only what the documents leave open (link forms, page sizes,
where a listing ends) changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .common import ApiResult, Query, v1_error, v2_error

END_CURSOR = "stand-in-past-the-end"
"""The cursor of the empty page a v2 listing ends with under `empty_page_with_next` (the stand-in issues it)."""


@dataclass(frozen=True)
class Quirks:
    # Every listing ends with an empty page that still links a next one, and that page links itself again: a
    # reader that trusts `next` requests forever (issue 18 saw 41 requests of one page before it was stopped).
    # Seen: kovetskiy/mark #967 ("stop on an empty page whatever they say"), Onyx #11284 ("`next` incorrectly
    # present without data"), qdrant-loader #361.
    empty_page_with_next: bool = False
    # Data Center caps `limit` at this many (its max-results setting) whatever was asked, reports the capped
    # `limit`, and its next link's `start` is the old start plus the *requested* limit, so following the link skips
    # items. Seen: Onyx #4129 and #11291 ("`_links.next.start` jumps by the requested limit"), CONFSERVER-95272.
    dc_page_cap: int = 0
    # Nested v2 listings (a page's labels, a space's pages or permissions) link their next page without `/wiki`:
    # `/api/v2/spaces/1/pages?cursor=...`. Seen: issue 18 (nested v2 links lacking /wiki).
    nested_v2_links_without_wiki: bool = False
    # A listing that asks for more than this many items with bodies times out at the proxy: 504. Seen: Onyx #10147
    # (halves the page size down to 5 on 504s of big pages with bodies).
    timeout_above_limit: int = 0
    # A CQL search stops linking a next page after this many items while `totalSize` counts them all (a search
    # index glitch): the count check must warn. Seen: Onyx #2641, unstructured #645 (silent truncation).
    search_stops_after: int = 0

    @property
    def active(self) -> bool:
        return any(
            (
                self.empty_page_with_next,
                self.dc_page_cap,
                self.nested_v2_links_without_wiki,
                self.timeout_above_limit,
                self.search_stops_after,
            )
        )

    def refuse(self, api: str, path: str, query: Query) -> ApiResult | None:
        """An answer given instead of routing: a 504 for a too-big page, or the empty page past a v2 listing's end."""
        limit = _int((query.get("limit") or [""])[-1])
        with_bodies = api == "v2" and (query.get("body-format") or [""])[-1] == "storage"
        with_bodies = with_bodies or "body.storage" in (query.get("expand") or [""])[-1]
        if self.timeout_above_limit and with_bodies and limit is not None and limit > self.timeout_above_limit:
            message = "Gateway Timeout"
            return v2_error(504, "GATEWAY_TIMEOUT", message) if api == "v2" else v1_error(504, message)
        if self.empty_page_with_next and (query.get("cursor") or [""])[-1] == END_CURSOR:
            link = _with_cursor(path if api == "v2" else path.removeprefix("/wiki"), query)
            return ApiResult(200, {"results": [], "_links": {"next": link}})
        return None

    def rewrite_query(self, api: str, query: Query) -> tuple[Query, int | None]:
        """The query routed (Data Center's cap applied) and the limit that was asked for (None when uncapped)."""
        if not (self.dc_page_cap and api == "v1-dc"):
            return query, None
        asked = _int((query.get("limit") or [""])[-1])
        if asked is None or asked <= self.dc_page_cap:
            return query, None
        return {**query, "limit": [str(self.dc_page_cap)]}, asked

    def rewrite_answer(
        self,
        api: str,
        path: str,
        query: Query,
        result: ApiResult,
        asked_limit: int | None,
        route: Callable[[Query], ApiResult],
    ) -> None:
        """Reshape a list answer in place (`results` + `_links`), as the quirks say; `route` answers the same
        request with another query (to count a search's total)."""
        body = result.body
        if result.status != 200 or not isinstance(body, dict) or not isinstance(body.get("results"), list):
            return
        if self.search_stops_after and api == "v1-dc" and path.endswith("/content/search"):
            body["totalSize"] = _search_total(route, query)
        links = body.setdefault("_links", {})
        if not isinstance(links, dict):
            return
        if self.search_stops_after and path.endswith("/content/search") and links.get("next"):
            start = body.get("start") if isinstance(body.get("start"), int) else 0
            if start + len(body["results"]) >= self.search_stops_after:
                del links["next"]
        if asked_limit is not None and links.get("next") and isinstance(body.get("start"), int):
            links["next"] = _with_param(str(links["next"]), "start", str(int(body["start"]) + asked_limit))
        if self.nested_v2_links_without_wiki and api == "v2" and links.get("next"):
            nested = path.removeprefix("/wiki/api/v2/").count("/") >= 1
            if nested:
                links["next"] = str(links["next"]).removeprefix("/wiki")
        if self.empty_page_with_next and not links.get("next"):
            if api == "v2":
                links["next"] = _with_cursor(path, query)
            elif api == "v1-cloud" and path.endswith("/content/search"):  # Cloud's CQL search pages by cursor
                links["next"] = _with_cursor(path.removeprefix("/wiki"), query)
            else:
                start = body.get("start") if isinstance(body.get("start"), int) else 0
                limit = body.get("limit") if isinstance(body.get("limit"), int) and body.get("limit") else 25
                prefix = str(links.get("context") or "")
                self_link = str(links.get("self") or "")
                relative = urlsplit(self_link).path.removeprefix(prefix) if self_link else path
                params = [(k, v) for k, values in query.items() if k not in ("start", "limit") for v in values]
                params += [("limit", str(limit)), ("start", str(int(start) + max(len(body["results"]), limit)))]
                links["next"] = f"{relative}?{urlencode(params)}"


def _search_total(route: Callable[[Query], ApiResult], query: Query) -> int:
    """How many items a Data Center CQL search matches in all (its `totalSize`, which real servers send beside the
    documented fields: the qdrant-loader and Onyx connectors read it)."""
    total = 0
    while True:
        window = route({**query, "start": [str(total)], "limit": ["100"]})
        held = len(window.body.get("results") or []) if isinstance(window.body, dict) else 0
        total += held
        if not held:
            return total


def _with_cursor(path: str, query: Query) -> str:
    params = [(k, v) for k, values in query.items() if k != "cursor" for v in values]
    return f"{path}?{urlencode([*params, ('cursor', END_CURSOR)])}"


def _with_param(link: str, name: str, value: str) -> str:
    parts = urlsplit(link)
    query = [(k, value if k == name else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None
