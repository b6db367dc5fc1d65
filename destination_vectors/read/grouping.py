"""Ranked chunks -> ranked pages: each page once, at the rank of its best chunk, with a few more snippets.

Chunk-level answers often fill the top k with three pieces of one page; an assistant or a person usually wants
distinct pages. A comment or an attachment belongs to its page (or blog post): it is grouped under it, and every
passage says where it came from (`Origin`: the page itself, a comment by whom, which attachment), as a field a web
page or an assistant can read, not only as text. Pure transform: no I/O, the order of first appearance is the order
of the pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from destination_vectors.store.row import hit_from_row, make_hit_class

GroupBy = Literal["chunk", "page"]
OriginKind = Literal["page", "blog_post", "comment", "inline_comment", "attachment"]
EXTRA_SNIPPETS = 2  # snippets shown besides the best chunk: enough context, not a copy of the page
CHILD_STREAMS = frozenset({"comments", "attachments"})  # grouped under their container (containers.py)
_KINDS: dict[str, OriginKind] = {"pages": "page", "blog_posts": "blog_post", "attachments": "attachment"}
PageKey = tuple[str, str]  # (stream, id) of the page or blog post an answer belongs to


class ChunkHit(Protocol):
    """What grouping reads of a chunk answer (`search.Hit` has it all; the page takes the rest of its hit columns)."""

    score: float
    stream: str
    page_id: str
    chunk_id: str
    title: str
    heading_path: str
    breadcrumb: str
    text: str
    webui_url: str


@dataclass(frozen=True)
class Origin:
    """Where a passage came from: the page (or blog post) itself, a comment on it, or a file attached to it."""

    kind: OriginKind
    label: str  # for people: "page", "blog post", "comment by Ann Lee", "inline comment", "attachment plan.pdf"
    author: str = ""  # the comment's (or page's) author, when the index knows the name
    attachment: str = ""  # the attachment's file name
    url: str = ""  # the link that opens the comment or the attachment itself ("" for the page: the page link)


@dataclass(frozen=True)
class Snippet:
    chunk_id: str
    heading_path: str
    text: str
    score: float
    chunk_url: str = ""  # link to the snippet's section (or to the comment, the attachment)
    origin: Origin | None = None


# One page among the answers: the page's stream, id, title and link (a comment's or an attachment's page, not the
# child itself), the best passage's other hit columns (row.COLUMNS, as `Hit`), text, score, breadcrumb and origin,
# chunk_url the link to that passage, and up to two more snippets, each with its origin.
PageHit = make_hit_class(
    extra={"breadcrumb": str, "snippets": list[Snippet], "origin": Origin | None},
    module=__name__,
    name="PageHit",
    doc="One page among the answers: the page's link first, its best passage (score, origin), two more snippets.",
)


def page_key(row: Mapping[str, Any]) -> PageKey:
    """The page a chunk belongs to: its container for a comment or an attachment, else itself. A child indexed
    before the container columns existed (or without a container id) stands alone, as it did."""
    stream = str(row.get("stream") or "")
    if stream in CHILD_STREAMS and row.get("container_id"):
        return str(row.get("container_stream") or "pages"), str(row["container_id"])
    return stream, str(row.get("page_id") or "")


def origin_of(row: Mapping[str, Any]) -> Origin:
    """The passage's origin from its columns: the stream, the author, and the child's title ("<page> › <file>" for an
    attachment, "<page> › inline comment" for an inline comment, containers.py)."""
    stream = str(row.get("stream") or "")
    author = str(row.get("author_name") or "")
    if stream == "comments":
        inline = str(row.get("title") or "").endswith("inline comment")
        kind: OriginKind = "inline_comment" if inline else "comment"
        label = ("inline comment" if inline else "comment") + (f" by {author}" if author else "")
        return Origin(kind, label, author=author, url=str(row.get("webui_url") or ""))
    if stream == "attachments":
        title, container = str(row.get("title") or ""), str(row.get("container_title") or "")
        name = title[len(container) + 3 :] if container and title.startswith(f"{container} › ") else title
        return Origin("attachment", f"attachment {name}".strip(), attachment=name, url=str(row.get("webui_url") or ""))
    kind = _KINDS.get(stream, "page")
    return Origin(kind, kind.replace("_", " "), author=author)


def shown(keys: Iterable[tuple[PageKey, PageKey]], k: int, extra_snippets: int = EXTRA_SNIPPETS) -> list[list[int]]:
    """For chunks ranked best first, given as (page key, source key): the positions each of the first k distinct
    pages shows, best chunk first, then up to `extra_snippets` more, chunks from a source not shown yet first (so a
    matching comment or attachment is not crowded out by more of the page). The source key is the chunk's own
    (stream, page_id). Search reads the full rows of only these."""
    groups: dict[PageKey, list[tuple[int, PageKey]]] = {}
    for position, (page, source) in enumerate(keys):
        group = groups.get(page)
        if group is None:
            if len(groups) < k:
                groups[page] = [(position, source)]
        else:
            group.append((position, source))
    chosen = []
    for group in groups.values():
        (best, source), rest = group[0], group[1:]
        seen, first, then = {source}, [], []
        for position, other in rest:
            (then if other in seen else first).append(position)
            seen.add(other)
        chosen.append([best, *sorted([*first, *then][:extra_snippets])] if rest else [best])
    return chosen


def group_by_page(hits: Iterable[ChunkHit], k: int, extra_snippets: int = EXTRA_SNIPPETS) -> list[PageHit]:
    """The first k distinct pages in the order their best chunk ranks; hits must come best first."""
    hits = list(hits)
    rows = [vars(hit) for hit in hits]
    groups = shown(((page_key(row), (row["stream"], row["page_id"])) for row in rows), k, extra_snippets)
    return [_page_hit(rank, hits[group[0]], [hits[p] for p in group[1:]]) for rank, group in enumerate(groups, 1)]


def _page_hit(rank: int, top: ChunkHit, more: Sequence[ChunkHit]) -> PageHit:
    row = vars(top)
    stream, page_id = page_key(row)
    fields = {**row, "chunk_url": row.get("chunk_url") or top.webui_url}
    if (stream, page_id) != (top.stream, top.page_id):  # a comment or attachment leads: the page's link comes first
        page_title = row.get("container_title") or top.title
        page_url = row.get("container_url") or top.webui_url
        fields.update(stream=stream, page_id=page_id, title=page_title, webui_url=page_url)
    return hit_from_row(
        rank,
        top.score,
        fields,
        PageHit,
        breadcrumb=top.breadcrumb,
        origin=origin_of(row),
        snippets=[
            Snippet(h.chunk_id, h.heading_path, h.text, h.score, getattr(h, "chunk_url", ""), origin_of(vars(h)))
            for h in more
        ],
    )


def distinct_pages(keys: Iterable[PageKey]) -> int:
    return len(set(keys))
