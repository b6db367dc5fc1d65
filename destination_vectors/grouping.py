"""Ranked chunks -> ranked pages: each page once, at the rank of its best chunk, with a few more snippets.

Chunk-level answers often fill the top k with three pieces of one page; an assistant or a person usually wants
distinct pages. Pure transform: no I/O, the order of first appearance is the order of the pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal, Protocol

GroupBy = Literal["chunk", "page"]
EXTRA_SNIPPETS = 2  # snippets shown besides the best chunk: enough context, not a copy of the page


class ChunkHit(Protocol):
    score: float
    stream: str
    page_id: str
    chunk_id: str
    title: str
    heading_path: str
    breadcrumb: str
    text: str
    space_key: str
    visibility: str
    webui_url: str
    chunk_url: str


@dataclass(frozen=True)
class Snippet:
    chunk_id: str
    heading_path: str
    text: str
    score: float
    chunk_url: str = ""  # link to the snippet's section


@dataclass(frozen=True)
class PageHit:
    """One page among the answers: its best chunk's text and score, up to two more snippets, one link."""

    rank: int
    score: float
    stream: str
    page_id: str
    title: str
    breadcrumb: str
    heading_path: str
    text: str
    space_key: str
    visibility: str
    webui_url: str
    chunk_url: str = ""  # link to the best chunk's section (webui_url + heading anchor)
    snippets: list[Snippet] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def group_by_page(hits: Iterable[ChunkHit], k: int, extra_snippets: int = EXTRA_SNIPPETS) -> list[PageHit]:
    """The first k distinct pages in the order their best chunk ranks; hits must come best first."""
    best: dict[tuple[str, str], ChunkHit] = {}
    more: dict[tuple[str, str], list[ChunkHit]] = {}
    for hit in hits:
        key = (hit.stream, hit.page_id)
        if key not in best:
            if len(best) >= k:
                continue
            best[key] = hit
            more[key] = []
        elif len(more[key]) < extra_snippets:
            more[key].append(hit)
    return [
        PageHit(
            rank=rank,
            score=top.score,
            stream=top.stream,
            page_id=top.page_id,
            title=top.title,
            breadcrumb=top.breadcrumb,
            heading_path=top.heading_path,
            text=top.text,
            space_key=top.space_key,
            visibility=top.visibility,
            webui_url=top.webui_url,
            chunk_url=getattr(top, "chunk_url", "") or top.webui_url,
            snippets=[
                Snippet(h.chunk_id, h.heading_path, h.text, h.score, getattr(h, "chunk_url", "")) for h in more[key]
            ],
        )
        for rank, (key, top) in enumerate(best.items(), start=1)
    ]


def distinct_pages(hits: Sequence[ChunkHit]) -> int:
    return len({(hit.stream, hit.page_id) for hit in hits})
