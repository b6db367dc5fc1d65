"""Ranked chunks -> ranked pages: each page once, at the rank of its best chunk, with a few more snippets.

Chunk-level answers often fill the top k with three pieces of one page; an assistant or a person usually wants
distinct pages. Pure transform: no I/O, the order of first appearance is the order of the pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from destination_vectors.store.row import hit_from_row, make_hit_class

GroupBy = Literal["chunk", "page"]
EXTRA_SNIPPETS = 2  # snippets shown besides the best chunk: enough context, not a copy of the page


class ChunkHit(Protocol):
    """What grouping reads of a chunk answer (`search.Hit` has it all; the page takes the rest of its hit columns)."""

    score: float
    stream: str
    page_id: str
    chunk_id: str
    heading_path: str
    breadcrumb: str
    text: str
    webui_url: str


@dataclass(frozen=True)
class Snippet:
    chunk_id: str
    heading_path: str
    text: str
    score: float
    chunk_url: str = ""  # link to the snippet's section


# One page among the answers: its best chunk's hit columns (row.COLUMNS, as `Hit`), text, score and breadcrumb, with
# chunk_url the link to that chunk's section, and up to two more snippets.
PageHit = make_hit_class(
    extra={"breadcrumb": str, "snippets": list[Snippet]},
    module=__name__,
    name="PageHit",
    doc="One page among the answers: its best chunk's fields, score and link, up to two more snippets.",
)


def shown(pages: Iterable[tuple[str, str]], k: int, extra_snippets: int = EXTRA_SNIPPETS) -> list[list[int]]:
    """For chunks ranked best first, given as their (stream, page_id): the positions each of the first k distinct
    pages shows, best chunk first, then up to `extra_snippets` more. Search reads the full rows of only these."""
    groups: dict[tuple[str, str], list[int]] = {}
    for position, page in enumerate(pages):
        group = groups.get(page)
        if group is None:
            if len(groups) < k:
                groups[page] = [position]
        elif len(group) <= extra_snippets:
            group.append(position)
    return list(groups.values())


def group_by_page(hits: Iterable[ChunkHit], k: int, extra_snippets: int = EXTRA_SNIPPETS) -> list[PageHit]:
    """The first k distinct pages in the order their best chunk ranks; hits must come best first."""
    hits = list(hits)
    groups = shown(((hit.stream, hit.page_id) for hit in hits), k, extra_snippets)
    return [
        hit_from_row(
            rank,
            top.score,
            {**vars(top), "chunk_url": getattr(top, "chunk_url", "") or top.webui_url},
            PageHit,
            breadcrumb=top.breadcrumb,
            snippets=[
                Snippet(h.chunk_id, h.heading_path, h.text, h.score, getattr(h, "chunk_url", ""))
                for h in (hits[position] for position in more)
            ],
        )
        for rank, (top, more) in enumerate(((hits[group[0]], group[1:]) for group in groups), start=1)
    ]


def distinct_pages(pages: Iterable[tuple[str, str]]) -> int:
    return len(set(pages))
