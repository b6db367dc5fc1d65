"""The three views (search, what was synced, sync health) as context for their templates.

Each view reads only through the `IndexService` (search, with the access fixed at start) and the `Inventory` (listings
through the same access filter): a query parameter can narrow what is shown, never widen it. A page or space outside
the scope gets the very answer a missing one gets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams

from destination_vectors.serve.inventory import CONTAINER_STREAMS
from destination_vectors.serve.service import MAX_K, ServiceError, without_prefix
from destination_vectors.serve.web.chart import sync_chart
from destination_vectors.serve.web.health import CHART_RUNS
from destination_vectors.serve.web.highlight import excerpt, highlight
from destination_vectors.serve.web.tree import page_tree

MODES = ("hybrid", "vector", "fts")
DEFAULT_K = 10
ORIGINS = {"pages": "page", "blog_posts": "blog post", "comments": "comment", "attachments": "attachment"}
ATTACHMENT_STATUSES = ("ok", "too_large", "unsupported_type", "failed")


class NotFound(ServiceError):
    """A page or space that is not in the index as this server shows it (missing or outside the scope: the same)."""


class BadRequest(ServiceError):
    """A parameter that cannot be used as given; the message says what to change."""


@dataclass(frozen=True)
class SearchAsk:
    query: str
    spaces: list[str]
    labels: list[str]
    streams: list[str]
    under: str
    mode: str
    k: int

    @classmethod
    def parse(cls, params: QueryParams) -> SearchAsk:
        mode = params.get("mode") or "hybrid"
        if mode not in MODES:
            raise BadRequest(f"the mode must be one of {', '.join(MODES)}, not {mode!r}")
        raw_k = params.get("k") or str(DEFAULT_K)
        try:
            k = int(raw_k)
        except ValueError:
            raise BadRequest(f"the number of results must be a whole number, not {raw_k!r}") from None
        if not 1 <= k <= MAX_K:
            raise BadRequest(f"the number of results must be between 1 and {MAX_K}, not {k}")
        return cls(
            query=(params.get("q") or "").strip(),
            spaces=_values(params, "space"),
            labels=_values(params, "label"),
            streams=_values(params, "stream"),
            under=(params.get("under") or "").strip(),
            mode=mode,
            k=k,
        )


def _values(params: QueryParams, name: str) -> list[str]:
    """Repeated parameters, blanks ("any" in the form) dropped, order kept, each once."""
    return list(dict.fromkeys(value.strip() for value in params.getlist(name) if value.strip()))


def search_view(service: Any, inventory: Any, params: QueryParams) -> dict[str, Any]:
    ask = SearchAsk.parse(params)
    summary = inventory.summary()
    facets = summary.facets()
    under_page = None
    if ask.under:
        under_page = summary.page(ask.under)
        if under_page is None:
            raise NotFound(f"no page with id {ask.under!r} in the index, so nothing can be searched below it")
    context: dict[str, Any] = {"ask": ask, "facets": facets, "under_page": under_page, "results": None}
    if not ask.query:
        return context
    hits = service.search_hits(
        ask.query,
        ask.k,
        spaces=ask.spaces,
        labels=ask.labels,
        streams=ask.streams,
        under=ask.under or None,
        mode=ask.mode,
        group_by="page",
    )
    context["results"] = [_result(_fields(hit), ask.query) for hit in hits]
    return context


def _fields(item: Any) -> Mapping[str, Any]:
    """A hit, snippet or origin as a mapping of its fields, without copying them (dicts pass as they are)."""
    return item if isinstance(item, Mapping) else vars(item)


def _result(hit: Mapping[str, Any], query: str) -> dict[str, Any]:
    """One page among the answers, as the template shows it (snippets excerpted and highlighted). With page grouping
    the page's own title and link lead even when a comment or an attachment matched best; each passage says where it
    came from (its `origin`), linked to the comment or the file when it has a link of its own."""
    snippets = []
    for snippet in map(_fields, hit.get("snippets") or []):
        own = _own_words(snippet["text"], hit["title"], snippet["heading_path"])
        origin = _origin(snippet, "")
        snippets.append(
            {
                "heading": snippet["heading_path"],
                "url": snippet.get("chunk_url") or origin["url"] or hit["webui_url"],
                "text": highlight(excerpt(own, query, 160), query),
                "origin": origin,
            }
        )
    origin = _origin(hit, hit["stream"])
    grouped = hit.get("origin") is not None and not isinstance(hit.get("origin"), str)  # the page leads
    return {
        "rank": hit["rank"],
        "score": hit["score"],
        "page_id": hit["page_id"],
        "title": hit["title"],
        "breadcrumb": hit["breadcrumb"],
        "heading": hit["heading_path"],
        "section_url": hit.get("chunk_url") or origin["url"] or hit["webui_url"],
        "page_url": hit["webui_url"],
        "space_key": hit["space_key"],
        "origin": origin,
        "on_title": "" if grouped else hit.get("container_title") or "",
        "on_url": "" if grouped else hit.get("container_url") or "",
        "snippet": highlight(excerpt(_own_words(hit["text"], hit["title"], hit["heading_path"]), query), query),
        "snippets": snippets,
        "searchable_below": hit["stream"] in CONTAINER_STREAMS,
    }


def _own_words(text: str, title: str, heading_path: str) -> str:
    """A passage without its context line (`ancestors > title > headings`, prepended for ranking). A comment's or an
    attachment's line names the child, not the page, so any single first line that reads like a path goes too."""
    words = without_prefix(text, title, heading_path)
    if words != text:
        return words
    first, separator, rest = text.partition("\n\n")
    if separator and "\n" not in first and (" > " in first or " › " in first or first.strip() == title.strip()):
        return rest
    return text


def _origin(item: Mapping[str, Any], stream: str) -> dict[str, str]:
    """Where a passage came from: the `origin` grouping sets (label "comment by Ann Lee", "attachment plan.pdf"),
    else its stream's name."""
    origin = item.get("origin")
    if origin is not None and not isinstance(origin, str):
        origin = _fields(origin)
        kind = str(origin.get("kind") or "page")
        return {"kind": kind, "label": str(origin.get("label") or kind), "url": str(origin.get("url") or "")}
    if origin:
        return {"kind": str(origin), "label": str(origin), "url": ""}
    label = ORIGINS.get(stream, stream or "page")
    return {"kind": label.replace(" ", "_"), "label": label, "url": ""}


def synced_view(inventory: Any) -> dict[str, Any]:
    summary = inventory.summary()
    attachments = inventory.attachments()
    counts: dict[str, int] = {}
    for row in attachments:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return {"spaces": summary.spaces(), "attachment_counts": counts, "attachments_total": len(attachments)}


def space_view(inventory: Any, space_key: str) -> dict[str, Any]:
    summary = inventory.summary()
    space = next((s for s in summary.spaces() if s["space_key"] == space_key), None)
    if space is None:
        raise NotFound(f"no space {space_key!r} in the index")
    pages = summary.pages_of(space_key)
    tree = page_tree([p for p in pages if p.stream == "pages"])
    posts = sorted((p for p in pages if p.stream != "pages"), key=lambda p: p.updated_at, reverse=True)
    attachments = [row for row in inventory.attachments() if row["space_key"] == space_key]
    return {"space": space, "tree": tree, "posts": posts, "attachments": attachments}


def attachments_view(inventory: Any, params: QueryParams) -> dict[str, Any]:
    status = params.get("status") or None
    if status is not None and status not in ATTACHMENT_STATUSES:
        raise BadRequest(f"the status must be one of {', '.join(ATTACHMENT_STATUSES)}, not {status!r}")
    return {"attachments": inventory.attachments(status), "status": status, "statuses": ATTACHMENT_STATUSES}


def health_view(runs: Any, visible_spaces: set[str] | None) -> dict[str, Any]:
    """`visible_spaces`: the spaces this server shows (None: all of them); the guard's decisions about other spaces
    are counted without naming them."""
    rows = [{**row, "deletions": _deletions(row.get("mass_deletions") or [], visible_spaces)} for row in runs.rows]
    return {
        "runs": rows,
        "chart": sync_chart(list(reversed(rows[:CHART_RUNS]))),
        "note": runs.note,
        "guarded": any(row["deletions"] for row in rows),
    }


def _deletions(decisions: Sequence[Mapping[str, Any]], visible_spaces: set[str] | None) -> list[str]:
    """One line per decision: "refused: 40 of 42 pages in ENG (space missing from the listing)"."""
    lines = []
    for row in decisions:
        space = row["space_key"]
        named = visible_spaces is None or space in visible_spaces
        where = f" in {space}" if space and named else "" if not space else " in a space this page does not show"
        how = f" ({row['allowed_by']})" if row.get("allowed_by") else ""
        vanished = " (space missing from the listing)" if row.get("vanished") and named else ""
        lines.append(
            f"{row['decision']}{how}: {row['deleted_pages']} of {row['live_pages']} {row['stream']}{where}{vanished}"
        )
    return lines
