"""Cloud's page tree from two sources, reconciled before access is decided: the v1 CQL listing's `ancestors` (what
the access path is built from) and REST v2's `parentId`/`parentType` (one light listing of the space, 250 pages a
request, no bodies). Pages can sit under folders, whiteboards, databases and embeds (v2 `parentType`); at least one
real site's v1 `ancestors` leave folders out, which would drop a restricted folder from the path and make its pages
readable by the whole space. So neither is trusted alone: a page whose parent the two disagree on, or whose parent is
a container that is not a page, is taken out of the tree (it and every page below it fail closed: restricted), with
one warning per container naming it."""

from collections.abc import Mapping
from typing import Any

from source_confluence.component_parts.access_fetch import AccessFetcher, Problems
from source_confluence.component_parts.common import optional_text
from source_confluence.component_parts.paging import next_listing_url

V2_TREE_PAGE_SIZE = 250


def v2_parents(
    fetcher: AccessFetcher, space_key: str, space_id: str, problems: Problems
) -> dict[str, tuple[str | None, str]] | None:
    """page id -> (parent id, parent type) of every page of the space by REST v2; None when it could not be listed."""
    url: str | None = f"{fetcher.origin}/wiki/api/v2/spaces/{space_id}/pages"
    params: Mapping[str, Any] | None = {"limit": V2_TREE_PAGE_SIZE}
    parents: dict[str, tuple[str | None, str]] = {}
    what = f"list the page tree of space {space_key} (REST v2)"
    while url:
        body = fetcher.fetch_json(url, params, problems, what)
        if body is None:
            return None
        for page in body.get("results") or []:
            parent = optional_text(page.get("parentId"))
            parents[str(page.get("id"))] = (parent, str(page.get("parentType") or "page") if parent else "page")
        url, params = next_listing_url(body, "v2", fetcher.bases, what, len(parents)), None
    return parents


def reconcile(
    parent_of: dict[str, str | None], v2: Mapping[str, tuple[str | None, str]], space_key: str
) -> list[tuple[str, str]]:
    """Takes out of `parent_of` every page whose parent v1 and v2 disagree on, or whose parent is not a page;
    returns (warning, consequence) per container concerned (one each, naming it and how many pages sit below)."""
    below: dict[tuple[str, str | None, str | None], list[str]] = {}
    for page_id, (parent, kind) in v2.items():
        if page_id not in parent_of:
            continue  # not in the access listing: already restricted
        listed = parent_of[page_id]
        if parent != listed or kind != "page":
            below.setdefault((kind, parent, listed), []).append(page_id)
            del parent_of[page_id]
    warnings = []
    for (kind, parent, listed), pages in sorted(below.items(), key=lambda item: str(item[0])):
        count = f"{len(pages)} page{'s' if len(pages) != 1 else ''} ({', '.join(sorted(pages)[:3])}{', ...' if len(pages) > 3 else ''})"
        if parent != listed:
            problem = (
                f"{count} of space {space_key} sit below {kind} {parent} by REST v2 but below "
                f"{listed or 'nothing (the space root)'} by the v1 ancestors, which leave it out"
            )
        else:
            problem = f"{count} of space {space_key} sit below {kind} {parent}, whose read restriction is not read"
        warnings.append((problem, "they and the pages below them are treated as restricted (visibility internal)"))
    return warnings
