"""Cloud's page tree from two sources, reconciled before access is decided: the v1 CQL listing's `ancestors` (what
the access path is built from) and REST v2's `parentId`/`parentType` (one light listing of the space, 250 pages a
request, no bodies). Pages can sit under folders, whiteboards, databases and embeds (v2 `parentType`), which are
levels of the tree: each container on a page's path is read once (its v2 route: title, parent) and its read
restriction counts like a page's. At least one real site's v1 `ancestors` leave folders out, so neither source is
trusted alone: a container v1 leaves out is put back from v2's chain when the first page above it is v1's parent;
a page whose parent the two disagree on otherwise, or whose path holds a container that cannot be read, is taken
out of the tree (it and every page below it fail closed: restricted), with one warning per cause naming it."""

from collections.abc import Callable, Mapping
from typing import Any

from source_confluence.component_parts.access_fetch import AccessFetcher, Problems
from source_confluence.component_parts.common import optional_text
from source_confluence.component_parts.containers import ContainerDirectory, TreeContainer
from source_confluence.component_parts.paging import next_listing_url

V2_TREE_PAGE_SIZE = 250
FAIL_CLOSED = "they and the pages below them are treated as restricted (visibility internal)"

ReadContainer = Callable[[str, str], TreeContainer | str]
"""(kind, id) -> the container, or why it could not be read."""
ReadRestriction = Callable[[str], str | None]
"""container id -> None once its read restriction is noted, or why it could not be read."""


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


def container_reader(fetcher: AccessFetcher, containers: ContainerDirectory) -> ReadContainer:
    """(kind, id) -> the container by its REST v2 route, read once per sync through `containers`, or why not."""

    def fetch(url: str, what: str) -> Mapping[str, Any] | str:
        missing = Problems()
        body = fetcher.fetch_json(url, None, missing, what)
        return body if body is not None else missing.problems[0]

    def read(kind: str, container_id: str) -> TreeContainer | str:
        return containers.read(f"{fetcher.origin}/wiki/api/v2", kind, container_id, fetch)

    return read


def container_chain(kind: str, container_id: str, read: ReadContainer) -> list[TreeContainer] | tuple[str, str, str]:
    """The containers from `container_id` up to the first page (or the space root), nearest first; or (kind, id, why)
    of the first one that cannot be read (a cycle counts as unreadable)."""
    chain: list[TreeContainer] = []
    current: tuple[str, str | None] = (kind, container_id)
    while current[1] is not None and current[0] != "page":
        if any(c.id == current[1] for c in chain):
            return current[0], current[1], "its parents form a cycle"
        found = read(current[0], current[1])
        if isinstance(found, str):
            return current[0], current[1], found
        chain.append(found)
        current = (found.parent_kind, found.parent_id)
    return chain


def reconcile(
    parent_of: dict[str, str | None],
    v2: Mapping[str, tuple[str | None, str]],
    space_key: str,
    read: ReadContainer,
    restriction: ReadRestriction,
) -> list[tuple[str, str]]:
    """Puts the containers on each page's path into `parent_of` (their restrictions noted by `restriction`); takes
    out every page whose parent v1 and v2 disagree on, or whose path has a container that cannot be read. Returns
    (warning, consequence) per cause (one each, naming the container and how many pages sit below)."""
    below: dict[tuple[str, ...], list[str]] = {}
    refused: dict[str, str] = {}  # container id -> why its restriction could not be read
    for page_id, (parent, kind) in v2.items():
        if page_id not in parent_of:
            continue  # not in the access listing: already restricted
        listed = parent_of[page_id]
        cause = _place(page_id, parent, kind, listed, parent_of, read, restriction, refused)
        if cause is not None:
            below.setdefault(cause, []).append(page_id)
            del parent_of[page_id]
    return [(_sentence(cause, pages, space_key), FAIL_CLOSED) for cause, pages in sorted(below.items())]


def _place(
    page_id: str,
    parent: str | None,
    kind: str,
    listed: str | None,
    parent_of: dict[str, str | None],
    read: ReadContainer,
    restriction: ReadRestriction,
    refused: dict[str, str],
) -> tuple[str, ...] | None:
    """None when the page's path is settled (containers placed), else the cause that takes it out of the tree."""
    if kind == "page" or parent is None:
        return None if parent == listed else ("disagree", kind, str(parent), str(listed))
    chain = container_chain(kind, parent, read)
    if isinstance(chain, tuple):
        return ("unreadable", *chain)
    if listed not in (parent, chain[-1].parent_id):  # v1 lists the container, or leaves containers out
        return ("disagree", kind, parent, str(listed))
    for container in chain:
        if container.id not in parent_of and container.id not in refused:
            why = restriction(container.id)
            if why is None:
                parent_of[container.id] = container.parent_id
            else:
                refused[container.id] = why
        if container.id in refused:
            return ("restriction", container.kind, container.id, refused[container.id])
    parent_of[page_id] = parent
    return None


def _sentence(cause: tuple[str, ...], pages: list[str], space_key: str) -> str:
    shown = ", ".join(sorted(pages)[:3]) + (", ..." if len(pages) > 3 else "")
    count = f"{len(pages)} page{'s' if len(pages) != 1 else ''} ({shown}) of space {space_key}"
    if cause[0] == "disagree":
        _, kind, parent, listed = cause
        listed_text = "nothing (the space root)" if listed == "None" else listed
        return f"{count} sit below {kind} {parent} by REST v2 but below {listed_text} by the v1 ancestors"
    _, kind, container_id, why = cause
    if cause[0] == "unreadable":
        return f"{count} sit below {kind} {container_id}: {why}"
    return f"{count} sit below {kind} {container_id}, whose read restriction is unknown: {why}"
